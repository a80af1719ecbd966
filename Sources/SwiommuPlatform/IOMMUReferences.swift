// A master's DMA channels as the device tree describes them: its "iommus" entries (swiommu's channel
// extension: entry i is channel i, a null phandle a channel that bypasses translation), or an ancestor
// host bridge's "iommu-map" for PCI-like requester IDs. Kernel: of_parse_phandle_with_args, of_map_id,
// drivers/iommu/of_iommu.c.
import SwiommuBase

/// One DMA channel (bus-master port) of a device.
public struct DMAChannel {
    /// The channel number: its position in "iommus".
    public var index: Int
    /// The IOMMU instance's node, or nil when the channel bypasses translation.
    public var iommu: UnsafeMutablePointer<DeviceNode>?
    /// The specifier cells after the phandle (#iommu-cells of them): stream IDs, masks, micro-TLB IDs.
    public var ids: [UInt32]
}

public enum OFIOMMU {
    /// Parse "iommus" with each target's #iommu-cells. Unlike upstream's parser, which stops at the first
    /// null entry, this one goes on past it: null entries are bypass channels (DESIGN.md). Nil when the
    /// node has no "iommus".
    public static func channels(of node: UnsafePointer<DeviceNode>, in tree: DeviceTree,
                                file: String) throws(BoardError) -> [DMAChannel]? {
        guard let cells = DeviceTree.cells(node, "iommus") else { return nil }
        let path = DeviceTree.path(of: node)
        var out: [DMAChannel] = []
        var i = 0
        while i < cells.count {
            let phandle = cells[i]
            i += 1
            if phandle == 0 {
                out.append(DMAChannel(index: out.count, iommu: nil, ids: []))
                continue
            }
            guard let target = tree.node(phandle: phandle) else {
                throw BoardError(file: file, node: path, property: "iommus",
                                 "entry \(out.count): phandle \(Kernel.hex(phandle)) does not exist")
            }
            guard let n = DeviceTree.cells(target, "#iommu-cells")?.first else {
                throw BoardError(file: file, node: path, property: "iommus",
                                 "entry \(out.count): \(DeviceTree.path(of: target)) has no #iommu-cells")
            }
            guard i + Int(n) <= cells.count else {
                throw BoardError(file: file, node: path, property: "iommus",
                                 "entry \(out.count): \(DeviceTree.path(of: target)) has #iommu-cells = <\(n)>, "
                                 + "but only \(cells.count - i) cell(s) follow its phandle")
            }
            out.append(DMAChannel(index: out.count, iommu: target, ids: Array(cells[i..<(i + Int(n))])))
            i += Int(n)
        }
        return out
    }

    /// Kernel: of_map_id over "iommu-map" / "iommu-map-mask". The IOMMU and ID a requester ID goes to;
    /// nil when no entry covers it (the device then bypasses translation, as upstream).
    public static func mapRequesterID(_ rid: UInt32, bridge: UnsafePointer<DeviceNode>,
                                      in tree: DeviceTree) -> DMAChannel? {
        guard let map = DeviceTree.cells(bridge, "iommu-map"), map.count % 4 == 0 else { return nil }
        let mask = DeviceTree.cells(bridge, "iommu-map-mask")?.first ?? 0xffff_ffff
        let masked = rid & mask
        for e in stride(from: 0, to: map.count, by: 4) {
            let (base, phandle, outBase, length) = (map[e], map[e + 1], map[e + 2], map[e + 3])
            guard masked >= base, masked &- base < length else { continue }
            return DMAChannel(index: 0, iommu: tree.node(phandle: phandle), ids: [masked &- base &+ outBase])
        }
        Kernel.log(.info, "\(DeviceTree.path(of: bridge)): no iommu-map translation for id \(Kernel.hex(rid))")
        return nil
    }

    /// Check an "iommu-map": whole entries, and phandles that exist.
    static func validateMap(_ node: UnsafePointer<DeviceNode>, in tree: DeviceTree, file: String) throws(BoardError) {
        guard let map = DeviceTree.cells(node, "iommu-map") else { return }
        let path = DeviceTree.path(of: node)
        guard map.count % 4 == 0 else {
            throw BoardError(file: file, node: path, property: "iommu-map",
                             "\(map.count) cells is not a whole number of (rid-base, phandle, iommu-base, length) entries")
        }
        for e in stride(from: 0, to: map.count, by: 4) where tree.node(phandle: map[e + 1]) == nil {
            throw BoardError(file: file, node: path, property: "iommu-map",
                             "entry \(e / 4): phandle \(Kernel.hex(map[e + 1])) does not exist")
        }
    }
}
