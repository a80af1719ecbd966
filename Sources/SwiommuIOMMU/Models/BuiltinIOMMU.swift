// One instance of a built-in IOMMU model: the platform device it is bound to, its `struct iommu_device`,
// its hardware contexts, its IOTLB, and the translation device DMA goes through. The models (one file each)
// override what their Linux drivers do differently: ID cells, groups, contexts, table formats, fault lines.
import Glibc
import CKernel
import CSwiommuGlue
import SwiommuBase
import SwiommuMemory
import SwiommuPageTable
import SwiommuPlatform

/// A hardware context a domain is programmed into on one instance (an ASID, a context bank, an IPMMU
/// context, a DART's TTBRs, a SysMMU's page-table base).
struct ContextSlot {
    /// The domain frees its contexts before it goes (ModelDomain.free), so no reference count is needed.
    unowned(unsafe) let domain: ModelDomain
    /// Which of the domain's tables this instance walks.
    let table: Int
}

class BuiltinIOMMU: @unchecked Sendable {
    // MARK: What a model says about itself (overridden)

    /// The Linux driver's name ("arm-smmu-v3"), its log prefix.
    class var driverName: String { "swiommu-iommu" }
    /// How many cells its `iommus` specifiers carry (nil: one or two, arm-smmu's choice by #iommu-cells).
    class var specifierCells: ClosedRange<Int> { 0...0 }
    /// Whether the driver lets one master sit behind several instances of it (exynos: a master with two
    /// SysMMUs; DART: up to two). Otherwise each further instance is a separate channel route.
    class var multiInstanceMasters: Bool { false }
    /// Whether the instance advertises IOMMU_CAP_DEFERRED_FLUSH (lazy flush queues).
    var deferredFlush: Bool { false }
    /// The default IOTLB capacity.
    class var iotlbEntries: Int { 1024 }
    /// The upstream compatible strings it binds to.
    class var compatibles: [String] { [] }

    /// Make an instance for a platform device the driver matched: the registers it reads, its contexts.
    /// The errno fails the probe (with the driver's message). Kernel: the driver's probe.
    class func make(device: UnsafeMutablePointer<Device>, node: UnsafeMutablePointer<DeviceNode>,
                    machine: Machine) -> Result<BuiltinIOMMU, Errno> {
        .failure(.noDevice)
    }

    // MARK: State

    /// `struct iommu_device`, followed by the instance's unmanaged reference.
    let storage: UnsafeMutableRawPointer
    var iommu: UnsafeMutablePointer<IOMMUDevice> { storage.assumingMemoryBound(to: IOMMUDevice.self) }
    /// The platform device the driver is bound to.
    let device: UnsafeMutablePointer<Device>
    let node: UnsafeMutablePointer<DeviceNode>
    unowned let machine: Machine
    /// Guards the IOTLB, contexts and counters: a spinlock, as device DMA takes it on every access.
    let lock = SpinLock()
    /// Whether the walk snoops the CPU caches (`dma-coherent` on the IOMMU node).
    let coherentWalk: Bool
    var iotlb: IOTLB
    /// Live hardware contexts by number; nil slots are free.
    var contexts: [ContextSlot?]
    /// Ports (stream IDs, micro-TLBs, the one master port) with translation enabled, for dumps and power.
    var enabledStreams: Set<UInt32> = []
    /// Faults this instance raised.
    var faults: UInt64 = 0

    static let storageSize = MemoryLayout<IOMMUDevice>.stride + MemoryLayout<UnsafeRawPointer>.stride

    required init(device: UnsafeMutablePointer<Device>, node: UnsafeMutablePointer<DeviceNode>, machine: Machine,
                  contexts: Int, pageSizes: UInt64) {
        self.device = device
        self.node = node
        self.machine = machine
        coherentWalk = DeviceTree.property(node, "dma-coherent") != nil
        let capacity = DeviceTree.cells(node, "swiommu,iotlb-entries")?.first.map(Int.init) ?? Self.iotlbEntries
        iotlb = IOTLB(capacity: max(capacity, 4), pageSizes: PageSizeBitmap(rawValue: pageSizes), contexts: contexts)
        self.contexts = Array(repeating: nil, count: contexts)
        storage = calloc(1, Self.storageSize)!
        (storage + MemoryLayout<IOMMUDevice>.stride).storeBytes(of: Unmanaged.passUnretained(self).toOpaque(),
                                                               as: UnsafeRawPointer.self)
    }

    deinit {
        iotlb.destroy()
        free(storage)
    }

    /// The instance behind a `struct iommu_device` a built-in driver registered.
    @inline(__always)
    static func from(_ iommu: UnsafeMutablePointer<IOMMUDevice>) -> BuiltinIOMMU {
        let raw = (UnsafeRawPointer(iommu) + MemoryLayout<IOMMUDevice>.stride).load(as: UnsafeRawPointer.self)
        return Unmanaged<BuiltinIOMMU>.fromOpaque(raw).takeUnretainedValue()
    }

    var name: String { String(cString: dev_name(device)) }

    /// Log as the Linux driver does: "<driver> <device>: message".
    func log(_ level: LogLevel, _ message: String) {
        Kernel.log(level, driver: Self.driverName, device: name, message)
    }

    // MARK: Model hooks (overridden)

    /// Check and pack one `iommus` specifier into fwspec IDs. Kernel: the driver's of_xlate.
    func xlate(_ cells: [UInt32]) -> Result<[UInt32], Errno> {
        guard Self.specifierCells.contains(cells.count) else { return .failure(.invalid) }
        return .success(cells.isEmpty ? [] : [cells[0]])
    }

    /// The group of a newly probed master. Kernel: the driver's device_group (generic by default).
    func deviceGroup(_ dev: UnsafeMutablePointer<Device>, master: MasterConfig, core: IOMMUCore) -> Result<IOMMUGroup, Errno> {
        .success(core.allocateGroup())
    }

    /// The instance's one group, for models whose masters cannot be isolated from each other (an ipmmu
    /// leaf, a Rockchip IOMMU): made for the first master, referenced by the next.
    weak var instanceGroup: IOMMUGroup?

    func sharedInstanceGroup(core: IOMMUCore) -> IOMMUGroup {
        if let g = instanceGroup {
            core.takeReference(g)
            return g
        }
        let g = core.allocateGroup()
        instanceGroup = g
        return g
    }

    /// Release what deviceGroup recorded for a master that goes.
    func forget(master: MasterConfig) {}

    /// A new table for a domain whose first device sits behind this instance.
    func makeTable() -> ModelTable? { nil }

    /// Page sizes and aperture of this instance's domains.
    var domainPageSizes: UInt64 { 0 }
    var aperture: (start: UInt64, end: UInt64) { (0, 0) }

    /// Whether a domain whose table was made for `other` can be walked by this instance as it is.
    func canShareTable(with other: BuiltinIOMMU) -> Bool {
        type(of: other) == type(of: self) && other.domainPageSizes == domainPageSizes && other.aperture == aperture
    }

    /// A free hardware context for `domain`: its number, or the errno the driver returns when none is left.
    /// Called with the instance locked.
    func allocateContext(for domain: ModelDomain) -> Result<Int, Errno> {
        if let i = contexts.firstIndex(where: { $0 == nil }) { return .success(i) }
        return .failure(.noSpace)
    }

    /// The context `domain` used goes back (called with the instance locked, after uninstall).
    func releaseContext(_ context: Int, of domain: ModelDomain) {}

    /// Which of `domain`'s tables this instance walks, when the model decides (a locked DART walks only the
    /// firmware's). Called with the domain locked.
    func tableChoice(for domain: ModelDomain) -> TableChoice { .shareOrMake }

    /// Whether a context lives as long as its domain (arm-smmu's context banks, SMMUv3's ASIDs, ipmmu's
    /// contexts are freed at domain free), or only while a master is attached (a SysMMU's or Rockchip
    /// IOMMU's single base register, a DART stream's TTBRs).
    class var contextsFollowDomain: Bool { false }

    /// The default domain type the driver forces (0: the core decides). Kernel: def_domain_type.
    func defaultDomainType(_ dev: UnsafeMutablePointer<Device>) -> UInt32 { 0 }

    /// The IOTLB invalidation the driver issues after an unmap of [iova, iova + size) in `context`.
    func invalidate(context: Int, iova: UInt64, size: UInt64) {
        iotlb.invalidate(context: UInt32(context), iova: iova, size: size)
    }

    /// The invalidation of a whole context (flush_iotlb_all, detach).
    func invalidate(context: Int) {
        iotlb.invalidate(context: UInt32(context))
    }

    /// The device the driver passes to report_iommu_fault (most pass the master; ipmmu-vmsa its own).
    func faultDevice(master: UnsafeMutablePointer<Device>) -> UnsafeMutablePointer<Device> { master }

    /// Log an unhandled fault as the Linux driver prints it. `handled` is report_iommu_fault's verdict;
    /// drivers that print before asking override.
    func logFault(master: UnsafeMutablePointer<Device>, stream: UInt32, context: Int, iova: UInt64, write: Bool,
                  fault: WalkFault, handled: Bool) {
        if !handled {
            log(.error, "Unhandled context fault: iova=\(Kernel.hex(iova)), \(write ? "write" : "read")")
        }
    }

    /// After iommu_device_register (the driver's probe message).
    func didRegister() {}
    /// At the driver's remove, after iommu_device_unregister.
    func willRemove() {}

    /// Kernel: the driver's domain_alloc_paging(dev): a domain finalised for this instance.
    func allocateDomain(for dev: UnsafeMutablePointer<Device>) -> UnsafeMutablePointer<IOMMUDomain>? {
        guard let d = ModelDomain(instance: self, ops: BuiltinModels.domainOps) else {
            return UnsafeMutablePointer(bitPattern: Int(Errno.noMemory.negated))
        }
        return d.domain
    }

    /// Whether `domain` may be programmed into this instance (upstream, most drivers keep a domain on the
    /// instance it was finalised for: -EINVAL otherwise). Called with the domain locked.
    func accepts(_ domain: ModelDomain) -> Bool { true }

    /// After a master's ports are programmed for `domain` (`reused`: the context existed).
    func didAttach(_ dev: UnsafeMutablePointer<Device>, context: Int, reused: Bool) {}

    /// After the instance refused a master's attach (no context left ...), for the driver's message.
    func attachFailed(_ dev: UnsafeMutablePointer<Device>, error: Errno) {}

    /// Whether report_iommu_fault gets IOMMU_FAULT_WRITE for writes (ipmmu-vmsa always passes 0).
    var reportsAccessDirection: Bool { true }

    // MARK: Contexts

    /// Program a context for `domain` (walking its table number `table`).
    func install(_ domain: ModelDomain, table: Int, at context: Int) {
        contexts[context] = ContextSlot(domain: domain, table: table)
    }

    /// Disable a context: its IOTLB entries go with it.
    func uninstall(context: Int) {
        contexts[context] = nil
        iotlb.invalidate(context: UInt32(context))
    }

    // MARK: Translation (device DMA)

    /// Translate one access through `context`: the IOTLB, else the table walk (filling the IOTLB). The
    /// permission check uses what the IOTLB holds, so a stale entry still grants access, as on hardware.
    @inline(__always)
    func translate(context: Int, iova: UInt64, write: Bool) -> Result<UInt64, WalkFault> {
        lock.lock()
        defer { lock.unlock() }
        let need: UInt8 = write ? 2 : 1
        if let e = iotlb.lookup(context: UInt32(truncatingIfNeeded: context), iova: iova) {
            if e.permissions & need != 0 {
                return .success(e.output &+ (iova &- e.iova))
            }
            return .failure(WalkFault(kind: .permission, level: 0, iova: iova))
        }
        guard context < contexts.count, let slot = contexts[context] else {
            return .failure(WalkFault(kind: .translation, level: 0, iova: iova))
        }
        switch slot.domain.tables[slot.table].walk(iova, write: write) {
        case .success(let w):
            let mask = (UInt64(1) << UInt64(w.sizeShift)) &- 1
            iotlb.fill(IOTLBEntry(context: UInt32(truncatingIfNeeded: context), sizeShift: w.sizeShift,
                                  permissions: w.permissions, iova: iova & ~mask, output: w.phys & ~mask))
            if w.permissions & need == 0 { return .failure(WalkFault(kind: .permission, level: 0, iova: iova)) }
            return .success(w.phys)
        case .failure(let f):
            return .failure(f)
        }
    }
}

/// How an instance picks the table it walks.
enum TableChoice {
    /// A table of the domain it can share, else a new one (while the domain is empty).
    case shareOrMake
    /// This one.
    case index(Int)
    /// None: the attach fails with -EINVAL.
    case refuse
}

/// What a built-in driver keeps for a master (dev_iommu_priv): the instances it sits behind and its IDs
/// on each. Kernel: arm_smmu_master, apple_dart_master_cfg, exynos_iommu_owner, ipmmu's fwspec ...
final class MasterConfig {
    struct Port {
        let instance: BuiltinIOMMU
        var ids: [UInt32]
    }
    var ports: [Port] = []
    /// The domain the master's ports are programmed for, if any.
    /// Cleared by detach before the domain can go (a domain still attached is never freed).
    unowned(unsafe) var domain: ModelDomain?

    var first: BuiltinIOMMU? { ports.first?.instance }

    static func of(_ dev: UnsafeMutablePointer<Device>) -> MasterConfig? {
        guard let raw = dev.pointee.iommu?.pointee.priv else { return nil }
        return Unmanaged<MasterConfig>.fromOpaque(raw).takeUnretainedValue()
    }
}
