// "rockchip,iommu" (v1) and "rockchip,rk3568-iommu" (v2): one IOMMU per master (no cells), the DTE/PTE
// directory format rockchip-iommu.c writes, one directory base per instance, IOTLB zaps by range.
// Kernel: drivers/iommu/rockchip-iommu.c.
import CKernel
import SwiommuBase
import SwiommuPageTable
import SwiommuPlatform

final class RockchipIOMMUModel: BuiltinIOMMU, @unchecked Sendable {
    override class var driverName: String { "rk_iommu" }
    override class var compatibles: [String] { ["rockchip,iommu", "rockchip,rk3568-iommu"] }
    override class var specifierCells: ClosedRange<Int> { 0...0 }
    override class var iotlbEntries: Int { 64 }

    let version: RockchipIOMMUVersion

    required init(device: UnsafeMutablePointer<Device>, node: UnsafeMutablePointer<DeviceNode>, machine: Machine,
                  contexts: Int, pageSizes: UInt64) {
        version = DeviceTree.strings(node, "compatible").lazy.compactMap(RockchipIOMMUVersion.init(compatible:)).first ?? .v1
        super.init(device: device, node: node, machine: machine, contexts: contexts, pageSizes: pageSizes)
    }

    override class func make(device: UnsafeMutablePointer<Device>, node: UnsafeMutablePointer<DeviceNode>,
                             machine: Machine) -> Result<BuiltinIOMMU, Errno> {
        .success(RockchipIOMMUModel(device: device, node: node, machine: machine, contexts: 1, pageSizes: Rockchip.pageSizes))
    }

    override var domainPageSizes: UInt64 { Rockchip.pageSizes }
    override var aperture: (start: UInt64, end: UInt64) { (0, (1 << 32) - 1) }

    override func makeTable() -> ModelTable? {
        guard let t = try? RockchipIOMMUTable(memory: machine.memory, version: version, coherent: coherentWalk) else { return nil }
        return OwnFormatModelTable(table: t, memory: machine.memory, coherent: coherentWalk)
    }

    /// One group per IOMMU: it has one directory base, so its masters cannot be isolated from each other.
    /// (Upstream's generic_device_group gives each master its own group, and the last attach wins the
    /// hardware; swiommu groups them as the hardware forces.)
    override func deviceGroup(_ dev: UnsafeMutablePointer<Device>, master: MasterConfig,
                              core: IOMMUCore) -> Result<IOMMUGroup, Errno> {
        .success(sharedInstanceGroup(core: core))
    }

    override func canShareTable(with other: BuiltinIOMMU) -> Bool {
        (other as? RockchipIOMMUModel)?.version == version
    }

    /// rk_iommu_irq: "Page fault at ... of type ...", the walk's indices, then report_iommu_fault.
    override func logFault(master: UnsafeMutablePointer<Device>, stream: UInt32, context: Int, iova: UInt64, write: Bool,
                           fault: WalkFault, handled: Bool) {
        let pad = "0x" + String(iova, radix: 16).leftPadded(to: 16)
        log(.error, "Page fault at \(pad) of type \(write ? "write" : "read")")
        log(.error, "iova = \(pad): dte_index: \(Kernel.hex((iova >> 22) & 0x3ff)) pte_index: \(Kernel.hex((iova >> 12) & 0x3ff)) "
            + "page_offset: \(Kernel.hex(iova & 0xfff))")
    }

}
