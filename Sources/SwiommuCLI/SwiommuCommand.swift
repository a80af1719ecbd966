// The swiommu command-line tool: `swiommu demo` (what `make demo` runs) and `swiommu version`.
import ArgumentParser
import CKernel
import Swiommu
import SwiommuBase
import SwiommuMemory
import SwiommuPlatform

@main
struct SwiommuCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiommu",
        abstract: "A software model of the Linux IOMMU and DMA-mapping subsystems.",
        subcommands: [Demo.self, Topology.self, Dump.self, Version.self],
        defaultSubcommand: Demo.self)
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the library version.")

    func run() {
        print("swiommu \(String(cString: abiVersion()!))")
    }
}
