// `swiommu dump [BOARD] [--device NAME]`: debugfs-style views of a booted board: every default domain
// (its counters, contexts and table) and every built-in IOMMU instance's IOTLB.
import ArgumentParser
import CKernel
import Swiommu
import SwiommuBase
import SwiommuIOMMU
import SwiommuPlatform

struct Dump: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Boot a board and print its IOMMU domains (counters, contexts, page tables) and IOTLBs.")

    @Argument(help: "A .dtb or .dts board (default: the built-in default board).")
    var board: String?

    @Option(help: "Only this master (DT path or node name).")
    var device: String?

    @Option(name: .customLong("page-shift"), help: "CPU page shift: 12, 14 or 16.")
    var pageShift: Int = 12

    func run() throws {
        let quiet = swiommu_log_set_console_level(0)
        defer { _ = swiommu_log_set_console_level(quiet) }
        let ret = board.map { path in path.withCString { abiInitPageShift($0, CUnsignedInt(pageShift)) } }
            ?? abiInitPageShift(nil, CUnsignedInt(pageShift))
        guard ret == 0, let machine = Machine.current, let core = IOMMUCore.current else {
            throw ValidationError("swiommu_init failed: \(String(cString: swiommu_log_last()))")
        }
        defer { abiExit() }
        var seen: [UnsafeMutablePointer<IOMMUDomain>] = []
        for pdev in machine.drivers.devices {
            let dev = pdev.device
            if let device, machine.drivers.findDevice(device) != dev { continue }
            let state = DeviceState.of(dev)
            for (route, member) in ([dev] + state.routeDevices).enumerated() {
                guard let g = core.group(of: member), let d = g.defaultDomain else { continue }
                print("== \(String(cString: dev_name(dev)))" + (route > 0 ? " route \(route)" : "") + ", group \(g.id)"
                      + (seen.contains(d) ? ": default domain shown above" : ""))
                if !seen.contains(d) {
                    seen.append(d)
                    print(BuiltinModels.dump(domain: d))
                }
            }
        }
        guard device == nil else { return }
        print("== IOTLBs")
        for pdev in machine.drivers.devices where BuiltinModels.summaries.contains(where: {
            $0.device == String(cString: dev_name(pdev.device)) }) {
            if let text = BuiltinModels.dumpIOTLB(of: pdev.device, channel: 0) { print(text) }
        }
    }
}
