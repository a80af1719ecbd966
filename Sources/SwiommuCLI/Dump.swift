// `swiommu dump [BOARD] [--device NAME] [--scenario NAME]`: debugfs-style views of a booted board: every
// default domain (its counters, contexts and table, and for a DMA API domain its IOVA space), every bound
// device's DMA API counters, and every built-in IOMMU instance's IOTLB. With --scenario, one or all of the
// driver prototypes' scenarios run first (on the default board, counting on), so the views show what they did.
import ArgumentParser
import CKernel
import Swiommu
import SwiommuBase
import SwiommuDMA
import SwiommuExamples
import SwiommuIOMMU
import SwiommuPlatform

struct Dump: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Boot a board and print its IOMMU domains (counters, contexts, page tables, IOVA spaces), DMA counters and IOTLBs.")

    @Argument(help: "A .dtb or .dts board (default: the built-in default board).")
    var board: String?

    @Option(help: "Only this master (DT path or node name).")
    var device: String?

    @Option(help: "First run a driver prototype's scenario on the default board: isp, drm, dmaengine, codec, ipmmu or all.")
    var scenario: String?

    @Option(name: .customLong("page-shift"), help: "CPU page shift: 12, 14 or 16.")
    var pageShift: Int = 12

    func validate() throws {
        guard let scenario else { return }
        guard scenario == "all" || Demo.scenarios.contains(where: { $0.0 == scenario }) else {
            throw ValidationError("unknown scenario '\(scenario)': isp, drm, dmaengine, codec, ipmmu or all")
        }
        guard board == nil, pageShift == 12 else {
            throw ValidationError("the scenarios run on the default board with 4 KiB pages")
        }
    }

    func run() throws {
        let quiet = swiommu_log_set_console_level(0)
        defer { _ = swiommu_log_set_console_level(quiet) }
        let ret = board.map { path in path.withCString { abiInitPageShift($0, CUnsignedInt(pageShift)) } }
            ?? abiInitPageShift(nil, CUnsignedInt(pageShift))
        guard ret == 0, let machine = Machine.current, let core = IOMMUCore.current else {
            throw ValidationError("swiommu_init failed: \(String(cString: swiommu_log_last()))")
        }
        defer { abiExit() }
        if let device, machine.drivers.findDevice(device) == nil {
            throw ValidationError("no device '\(device)' on \(machine.boardName)")
        }
        var failed = false
        if let scenario {
            DMACounters.enabled = true
            for (name, run) in Demo.scenarios where scenario == "all" || scenario == name {
                var report = swiommu_example_report()
                let r = run(&report)
                print("== scenario \(name): " + (r == 0 ? "passed" : "FAILED (\(r))"))
                failed = failed || r != 0
            }
        }
        var seen: [UnsafeMutablePointer<IOMMUDomain>] = []
        for pdev in machine.drivers.devices {
            let dev = pdev.device
            if let device, machine.drivers.findDevice(device) != dev { continue }
            let state = DeviceState.of(dev)
            if let c = DMACounters.read(dev), self.device != nil || c.contains(where: { $0 != 0 }) || state.dmaFaults != 0 {
                print("== \(String(cString: dev_name(dev))) DMA API: \(c[0]) maps (\(c[2]) bytes), \(c[1]) unmaps "
                      + "(\(c[3]) bytes), \(c[4]) syncs, \(c[5]) bytes bounced, \(state.dmaFaults) faults")
            }
            for (route, member) in ([dev] + state.routeDevices).enumerated() {
                guard let g = core.group(of: member), let d = g.defaultDomain else { continue }
                print("== \(String(cString: dev_name(dev)))" + (route > 0 ? " route \(route)" : "") + ", group \(g.id)"
                      + (seen.contains(d) ? ": default domain shown above" : ""))
                if !seen.contains(d) {
                    seen.append(d)
                    print(BuiltinModels.dump(domain: d))
                    if let iova = IOMMUDMA.dumpIOVA(of: d) { print(iova) }
                }
            }
        }
        if device == nil {
            print("== IOTLBs")
            for pdev in machine.drivers.devices where BuiltinModels.summaries.contains(where: {
                $0.device == String(cString: dev_name(pdev.device)) }) {
                if let text = BuiltinModels.dumpIOTLB(of: pdev.device, channel: 0) { print(text) }
            }
        }
        if failed { throw ExitCode.failure }
    }
}
