// The built-in board, built in code until the board loader reads examples/boards/default.dts: RAM and a
// few bus masters of the default SoC (DESIGN.md "Scenarios"), without their IOMMUs yet.
import SwiommuBase
import SwiommuMemory

public enum BuiltinBoard {
    public static let model = "swiommu default board (built-in)"

    /// One bus master of the board: node name, unit address, register window size, compatible, SPI.
    struct Master {
        var name: String
        var address: UInt64
        var size: UInt64
        var compatible: String
        var spi: UInt32
        var scenario: String
    }

    static let masters: [Master] = [
        Master(name: "isp", address: 0xfe0a_0000, size: 0x1_0000, compatible: "swiommu,camera-isp", spi: 40,
               scenario: "camera ISP that manages its own IOMMU domain"),
        Master(name: "dma-controller", address: 0xfe10_0000, size: 0x1_0000, compatible: "swiommu,dma-engine", spi: 41,
               scenario: "8-channel DMA engine with mixed IOMMU and bypass routes"),
        Master(name: "display", address: 0xfe20_0000, size: 0x1_0000, compatible: "swiommu,display", spi: 42,
               scenario: "display controller behind a 16 KiB-page IOMMU"),
        Master(name: "gpu", address: 0xfe30_0000, size: 0x4_0000, compatible: "swiommu,gpu", spi: 43,
               scenario: "GPU sharing the display's IOMMU domain"),
        Master(name: "codec", address: 0xfe40_0000, size: 0x1_0000, compatible: "swiommu,video-codec", spi: 44,
               scenario: "video codec with two memory ports and a 256 MiB window"),
    ]

    /// Fill `tree` with the board: memory nodes for `ram`, /chosen, and /soc with the masters.
    public static func build(into tree: DeviceTree, ram: [RAMBankLayout]) {
        let root = tree.root
        tree.setStrings(root, "compatible", ["swiommu,default-board"])
        tree.setStrings(root, "model", [model])
        tree.setCells(root, "#address-cells", [2])
        tree.setCells(root, "#size-cells", [2])
        for bank in ram {
            let m = tree.addNode("memory@" + String(bank.start.rawValue, radix: 16))
            tree.setStrings(m, "device_type", ["memory"])
            tree.setCells(m, "reg", cells64(bank.start.rawValue) + cells64(bank.size))
        }
        tree.addNode("chosen")
        let gic = tree.addNode("interrupt-controller@f9010000")
        tree.setStrings(gic, "compatible", ["arm,gic-400"])
        tree.setCells(gic, "#interrupt-cells", [3])
        tree.setFlag(gic, "interrupt-controller")
        tree.setCells(gic, "reg", cells64(0xf901_0000) + cells64(0x1000))
        tree.setCells(root, "interrupt-parent", [tree.phandle(of: gic)])
        let soc = tree.addNode("soc")
        tree.setStrings(soc, "compatible", ["simple-bus"])
        tree.setCells(soc, "#address-cells", [2])
        tree.setCells(soc, "#size-cells", [2])
        tree.setFlag(soc, "ranges")
        for m in masters {
            let n = tree.addNode("\(m.name)@" + String(m.address, radix: 16), parent: soc)
            tree.setStrings(n, "compatible", [m.compatible])
            tree.setCells(n, "reg", cells64(m.address) + cells64(m.size))
            tree.setCells(n, "interrupts", [0, m.spi, 4])  // GIC_SPI n IRQ_TYPE_LEVEL_HIGH
        }
    }

    static func cells64(_ v: UInt64) -> [UInt32] { [UInt32(v >> 32), UInt32(truncatingIfNeeded: v)] }
}
