// "samsung,exynos-sysmmu": one SysMMU per master port (no cells), masters behind several of them (a codec's
// two memory ports), and the SysMMU's own two-level table (1 MiB sections, 64K and 4K pages, the shared
// zero level-2 table, v5's shifted addresses) that exynos-iommu.c writes. One attach programs every
// SysMMU of the master. Kernel: drivers/iommu/exynos-iommu.c.
import CKernel
import SwiommuBase
import SwiommuPageTable
import SwiommuPlatform

final class ExynosSysMMUModel: BuiltinIOMMU, @unchecked Sendable {
    override class var driverName: String { "exynos-sysmmu" }
    override class var compatibles: [String] { ["samsung,exynos-sysmmu"] }
    override class var specifierCells: ClosedRange<Int> { 0...0 }
    override class var multiInstanceMasters: Bool { true }
    override class var iotlbEntries: Int { 64 }

    /// The zero level-2 table and lv2 cache every Exynos domain links to (exynos_iommu_init), shared by the
    /// instances of one boot.
    nonisolated(unsafe) static var shared: ExynosSysMMUDriver?
    nonisolated(unsafe) static var live = 0
    let majorVersion: Int

    required init(device: UnsafeMutablePointer<Device>, node: UnsafeMutablePointer<DeviceNode>, machine: Machine,
                  contexts: Int, pageSizes: UInt64) {
        majorVersion = Int(DeviceTree.cells(node, "swiommu,version")?.first ?? 5)
        super.init(device: device, node: node, machine: machine, contexts: contexts, pageSizes: pageSizes)
    }

    override class func make(device: UnsafeMutablePointer<Device>, node: UnsafeMutablePointer<DeviceNode>,
                             machine: Machine) -> Result<BuiltinIOMMU, Errno> {
        let m = ExynosSysMMUModel(device: device, node: node, machine: machine, contexts: 1, pageSizes: ExynosSysMMU.pageSizes)
        if shared == nil {
            do {
                shared = try ExynosSysMMUDriver(memory: machine.memory, majorVersion: m.majorVersion, coherent: m.coherentWalk)
            } catch {
                return .failure(Errno(rawValue: error.errno) ?? .noMemory)
            }
        }
        live += 1
        return .success(m)
    }

    override func willRemove() {
        Self.live -= 1
        if Self.live == 0, let d = Self.shared, d.close() { Self.shared = nil }
    }

    override var domainPageSizes: UInt64 { ExynosSysMMU.pageSizes }
    override var aperture: (start: UInt64, end: UInt64) { (0, (1 << 32) - 1) }

    override func makeTable() -> ModelTable? {
        guard let driver = Self.shared, let t = try? driver.makeDomain() else { return nil }
        return OwnFormatModelTable(table: t, memory: machine.memory, coherent: coherentWalk)
    }

    override func canShareTable(with other: BuiltinIOMMU) -> Bool {
        (other as? ExynosSysMMUModel)?.majorVersion == majorVersion
    }

    /// exynos_sysmmu_irq: show_fault_information first, then report_iommu_fault; an unrecovered fault is a
    /// BUG() upstream (a WARN record here, the process keeps running).
    override func logFault(master: UnsafeMutablePointer<Device>, stream: UInt32, context: Int, iova: UInt64, write: Bool,
                           fault: WalkFault, handled: Bool) {
        let kind = fault.kind == .permission ? "ACCESS PROTECTION" : "PAGE"
        log(.error, "\(String(cString: dev_name(master))): \(write ? "AW" : "AR") \(kind) FAULT occurred at \(Kernel.hex(iova))")
        if !handled {
            Kernel.warn("exynos-sysmmu \(name): fault at \(Kernel.hex(iova)) not recovered by the fault handler "
                        + "(Linux BUG()s here)")
        }
    }

}
