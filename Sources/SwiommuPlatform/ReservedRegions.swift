// IOVA regions the firmware reserves for a device: reserved-memory nodes with "iommu-addresses" that a
// master names in "memory-region". Kernel: of_iommu_get_resv_regions, iommu_resv_region_get_type.
import SwiommuBase

/// Kernel: enum iommu_resv_type (the two kinds the device tree can describe).
public enum ReservedRegionType: String, Sendable {
    /// Mapped 1:1: the firmware set up DMA there (a framebuffer) and it must keep working.
    case direct
    /// Never to be allocated or mapped.
    case reserved
}

/// Kernel: struct iommu_resv_region, as the device tree describes it.
public struct ReservedRegion: Sendable, Equatable {
    public var start: UInt64
    public var length: UInt64
    /// IOMMU_READ | IOMMU_WRITE, plus IOMMU_CACHE for a coherent master.
    public var prot: Int32
    public var type: ReservedRegionType
    /// The reserved-memory node that describes it.
    public var node: String
}

enum ReservedRegions {
    /// The (device, IOVA, length) entries of a node's "iommu-addresses", each in the device's bus cells.
    static func entries(of node: UnsafePointer<DeviceNode>, in tree: DeviceTree,
                        file: String) throws(BoardError) -> [(UnsafeMutablePointer<DeviceNode>, UInt64, UInt64)] {
        guard let cells = DeviceTree.cells(node, "iommu-addresses") else { return [] }
        let path = DeviceTree.path(of: node)
        var out: [(UnsafeMutablePointer<DeviceNode>, UInt64, UInt64)] = []
        var i = 0
        while i < cells.count {
            guard let dev = tree.node(phandle: cells[i]) else {
                throw BoardError(file: file, node: path, property: "iommu-addresses",
                                 "phandle \(Kernel.hex(cells[i])) does not exist")
            }
            let (ac, sc) = DeviceTree.cellCounts(forChildrenOf: dev.pointee.parent ?? tree.root)
            guard i + 1 + ac + sc <= cells.count else {
                throw BoardError(file: file, node: path, property: "iommu-addresses",
                                 "entry for \(DeviceTree.path(of: dev)) needs \(ac) + \(sc) cells after the phandle")
            }
            let iova = cells[(i + 1)..<(i + 1 + ac)].reduce(UInt64(0)) { $0 << 32 | UInt64($1) }
            let length = cells[(i + 1 + ac)..<(i + 1 + ac + sc)].reduce(UInt64(0)) { $0 << 32 | UInt64($1) }
            out.append((dev, iova, length))
            i += 1 + ac + sc
        }
        return out
    }

    /// The reserved regions of a master. Kernel: of_iommu_get_resv_regions.
    static func regions(for device: UnsafeMutablePointer<DeviceNode>, in tree: DeviceTree,
                        coherent: Bool, machine: Machine) -> [ReservedRegion] {
        var out: [ReservedRegion] = []
        for ph in DeviceTree.cells(device, "memory-region") ?? [] {
            guard let mem = tree.node(phandle: ph) else { continue }
            let phys = DeviceTree.property(mem, "reg") != nil ? machine.registerWindows(mem).first : nil
            guard let entries = try? entries(of: mem, in: tree, file: "") else { continue }
            for (dev, iova, length) in entries where dev == device {
                guard length > 0 else {
                    Kernel.log(.warning, "\(DeviceTree.path(of: device)): Cannot reserve IOVA region of 0 size")
                    continue
                }
                var type = ReservedRegionType.reserved
                if let phys {
                    if phys.start == iova && phys.size == length {
                        type = .direct
                    } else {
                        Kernel.log(.warning, "\(DeviceTree.path(of: device)): treating non-direct mapping "
                                   + "[\(Kernel.hex(phys.start))] -> [\(Kernel.hex(iova))-\(Kernel.hex(iova + length - 1))] as reservation")
                    }
                }
                out.append(ReservedRegion(start: iova, length: length, prot: coherent ? 1 | 2 | 4 : 1 | 2, type: type,
                                          node: DeviceTree.path(of: mem)))
            }
        }
        return out
    }
}

extension Machine {
    /// The reserved IOVA regions the board gives the device at `node` (memory-region + iommu-addresses),
    /// whether or not it is bound yet: what firmware set up for it.
    public func reservedRegions(of node: UnsafeMutablePointer<DeviceNode>) -> [ReservedRegion] {
        ReservedRegions.regions(for: node, in: tree, coherent: false, machine: self)
    }
}
