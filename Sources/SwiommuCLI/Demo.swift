// `swiommu demo`: boot the built-in board, show the machine and its drivers, then run the five C driver
// prototypes' scenarios (examples/drivers/scenarios.c) and report what each did and verified.
import ArgumentParser
import Glibc
import CKernel
import Swiommu
import SwiommuBase
import SwiommuExamples
import SwiommuPlatform

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Boot the default board, show the machine, and run the driver prototypes' scenarios.")

    @Option(name: .customLong("page-shift"), help: "CPU page shift: 12, 14 or 16.")
    var pageShift: Int = 12

    /// The scenarios, in the order of issue 9.
    static var scenarios: [(String, (UnsafeMutablePointer<swiommu_example_report>?) -> CInt)] {
        [
            ("isp", swiommu_example_isp_run),
            ("drm", swiommu_example_drm_run),
            ("dmaengine", swiommu_example_dmaengine_run),
            ("codec", swiommu_example_codec_run),
            ("ipmmu", swiommu_example_ipmmu_run),
        ]
    }

    func run() throws {
        let start = Demo.now()
        let ret = abiInitPageShift(nil, CUnsignedInt(pageShift))
        guard ret == 0, let machine = Machine.current else {
            throw ValidationError("swiommu_init failed: \(ret)")
        }
        print("== \(machine.boardName), \(machine.geometry.size >> 10) KiB pages")
        print("\nRAM")
        for b in machine.memory.physical.banks {
            let end = b.start + (b.size - 1)
            print("  \(pad(b.start.description, 14)) - \(pad(end.description, 14))  \(b.size >> 20) MiB"
                  + (end.rawValue < 1 << 32 ? "  (below 4 GiB: ZONE_DMA32)" : "  (above 4 GiB: ZONE_NORMAL)"))
        }
        printDevices(machine)

        var failed = 0
        if pageShift != 12 {
            print("\nThe driver prototypes are built for 4 KiB pages: their scenarios run with --page-shift 12.")
        } else {
            print("\nDriver prototypes (examples/drivers), each scenario checked as its cmocka suite checks it")
            // The scenarios provoke faults on purpose; their reports say what was logged.
            let console = swiommu_log_set_console_level(0)
            for (index, scenario) in Demo.scenarios.enumerated() {
                var report = swiommu_example_report()
                let ret = scenario.1(&report)
                printReport(report, index: index + 1, name: scenario.0)
                if ret != 0 { failed += 1 }
            }
            _ = swiommu_log_set_console_level(console)
        }

        swiommu_log_reset()
        abiExit()
        let leaked = swiommu_log_contains("allocation(s) leaked")
        print("\nswiommu_exit: every driver unbound, "
              + (leaked ? "LEAKS (see the log above)" : "no allocation leaked")
              + "; \(seconds(Demo.now() - start)) s in all.")
        if failed != 0 || leaked {
            if failed != 0 { print("\(failed) scenario(s) FAILED") }
            throw ExitCode.failure
        }
    }

    /// Every device: its compatible, the driver bound to it, and where its DMA channels go.
    private func printDevices(_ machine: Machine) {
        print("\nDevices (driver bound; DMA channels: the IOMMU each goes through, or the bus)")
        for pdev in machine.drivers.devices {
            let dev = pdev.device
            let compat = dev.pointee.of_node.flatMap { DeviceTree.strings($0, "compatible").first } ?? ""
            let driver = dev.pointee.driver != nil ? String(cString: dev_driver_string(dev)) : "-"
            print("  \(pad(String(cString: dev_name(dev)), 24)) \(pad(compat, 23)) \(pad(driver, 20)) "
                  + channels(of: dev))
        }
    }

    /// "fd000000.iommu x4, fd100000.iommu x2, bus x2" for a master with "iommus", "" otherwise.
    private func channels(of dev: UnsafeMutablePointer<Device>) -> String {
        let count = abiDeviceChannelCount(dev)
        guard count > 0, dev.pointee.of_node.map({ DeviceTree.property($0, "iommus") != nil }) ?? false else {
            return ""
        }
        var runs: [(String, Int)] = []
        for i in 0..<CUnsignedInt(count) {
            var ch = swiommu_channel()
            guard abiDeviceChannel(dev, i, &ch) == 0 else { continue }
            let name = ch.iommu.map { String(cString: $0.pointee.full_name) } ?? "bus"
            if let last = runs.last, last.0 == name { runs[runs.count - 1].1 += 1 } else { runs.append((name, 1)) }
        }
        return "-> " + runs.map { $0.1 > 1 ? "\($0.0) x\($0.1)" : $0.0 }.joined(separator: ", ")
    }

    private func printReport(_ r: swiommu_example_report, index: Int, name: String) {
        var r = r
        let title = r.title.map { String(cString: $0) } ?? name
        print("\n[\(index)/\(Demo.scenarios.count)] \(title)")
        for i in 0..<r.num_notes {
            if let note = swiommu_example_note(&r, i) { print("    \(String(cString: note))") }
        }
        print("    => mappings \(r.mappings), transfers verified \(r.transfers), faults caught \(r.faults), "
              + "other errors caught \(r.errors), unexpected dma-debug findings \(r.dma_debug)")
        let iotlb = r.iotlb_model != 0
            ? "IOTLB \(r.iotlb_lookups) lookups (\(r.iotlb_hits) hits, \(r.iotlb_misses) misses), "
              + "\(r.iotlb_invalidations) invalidations"
            : "IOTLB \(r.iotlb_invalidations) context flushes (the C driver's own count: no IOTLB model)"
        print("    => \(iotlb); IOVA \(r.iova_ranges) ranges, \(bytes(r.iova_bytes))"
              + (r.error != 0 ? "   ** FAILED (\(r.error)) **" : ""))
    }

    private func bytes(_ n: UInt64) -> String {
        n >= 1 << 20 && n % (1 << 20) == 0 ? "\(n >> 20) MiB" : n >= 1 << 10 ? "\(n >> 10) KiB" : "\(n) bytes"
    }

    /// "0.57" for 0.5712 (no Foundation in the CLI).
    private func seconds(_ t: Double) -> String {
        let cs = Int((t * 100).rounded())
        return "\(cs / 100)." + (cs % 100 < 10 ? "0" : "") + "\(cs % 100)"
    }

    private func pad(_ s: String, _ n: Int) -> String {
        s.count >= n ? s : s + String(repeating: " ", count: n - s.count)
    }

    private static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}
