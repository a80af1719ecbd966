// The "renesas,ipmmu-vmsa" family as upstream builds it: a root instance (IPMMU-MM) holds the hardware
// contexts; leaf instances point at it with `renesas,ipmmu-main`; masters name a leaf and a micro-TLB (one
// cell); each leaf is one group. A domain takes a root context at its first attach and keeps to that leaf;
// when the root has no context left, attach fails with -EBUSY. Kernel: drivers/iommu/ipmmu-vmsa.c.
import CKernel
import SwiommuBase
import SwiommuPageTable
import SwiommuPlatform

final class IPMMUVMSA: BuiltinIOMMU, @unchecked Sendable {
    override class var driverName: String { "ipmmu-vmsa" }
    /// The default board's 4-context root first (its own compatible wins the match), then upstream's.
    override class var compatibles: [String] {
        ["swiommu,ipmmu-4ctx"] + gen3.map { "renesas,ipmmu-" + $0 } + gen4.map { "renesas,ipmmu-" + $0 }
            + ["renesas,rcar-gen3-ipmmu-vmsa", "renesas,rcar-gen4-ipmmu-vmsa", "renesas,ipmmu-vmsa"]
    }
    override class var specifierCells: ClosedRange<Int> { 1...1 }
    override class var contextsFollowDomain: Bool { true }

    /// ipmmu_features_rcar_gen3: 8 contexts, context 0 reserved.
    static let gen3 = ["r8a774a1", "r8a774b1", "r8a774c0", "r8a774e1", "r8a7795", "r8a7796", "r8a77961", "r8a77965",
                       "r8a77970", "r8a77980", "r8a77990", "r8a77995"]
    /// ipmmu_features_rcar_gen4: 16 contexts, context 0 reserved.
    static let gen4 = ["r8a779a0", "r8a779f0", "r8a779g0", "r8a779h0"]

    /// A leaf's root, held strongly: at shutdown the root may be unbound before the leaves whose domains
    /// still hold its contexts. nil for a root.
    private var leafRoot: IPMMUVMSA?
    /// The root that holds the contexts (self for a root).
    var root: IPMMUVMSA { leafRoot ?? self }
    /// Root only: the domain in each context, and how many leaves use it.
    var rootContexts: [(domain: ModelDomain, leaves: Int)?] = []
    let reservedContext: Bool

    required init(device: UnsafeMutablePointer<Device>, node: UnsafeMutablePointer<DeviceNode>, machine: Machine,
                  contexts: Int, pageSizes: UInt64) {
        reservedContext = false
        super.init(device: device, node: node, machine: machine, contexts: contexts, pageSizes: pageSizes)
    }

    init(device: UnsafeMutablePointer<Device>, node: UnsafeMutablePointer<DeviceNode>, machine: Machine,
         contexts: Int, reserved: Bool) {
        reservedContext = reserved
        super.init(device: device, node: node, machine: machine, contexts: contexts, pageSizes: Self.sizes)
    }

    static let sizes: UInt64 = (1 << 12) | (1 << 21) | (1 << 30)

    /// The context count as ipmmu_features gives it for the node's most specific compatible, or
    /// `swiommu,num-contexts`.
    static func features(_ node: UnsafeMutablePointer<DeviceNode>) -> (contexts: Int, reserved: Bool) {
        let compatible = DeviceTree.strings(node, "compatible")
        var result = (contexts: 1, reserved: false)   // ipmmu_features_default (R-Car Gen2)
        for c in compatible {
            let soc = c.hasPrefix("renesas,ipmmu-") ? String(c.dropFirst("renesas,ipmmu-".count)) : ""
            if gen3.contains(soc) || c == "renesas,rcar-gen3-ipmmu-vmsa" { result = (8, true); break }
            if gen4.contains(soc) || c == "renesas,rcar-gen4-ipmmu-vmsa" { result = (16, true); break }
        }
        if let n = DeviceTree.cells(node, "swiommu,num-contexts")?.first { result = (Int(n), false) }
        return result
    }

    override class func make(device: UnsafeMutablePointer<Device>, node: UnsafeMutablePointer<DeviceNode>,
                             machine: Machine) -> Result<BuiltinIOMMU, Errno> {
        let name = String(cString: dev_name(device))
        let (count, reserved) = features(node)
        guard (1...16).contains(count) else {
            Kernel.log(.error, driver: driverName, device: name, "\(count) contexts: IPMMU_CTX_MAX is 16")
            return .failure(.invalid)
        }
        if let main = DeviceTree.cells(node, "renesas,ipmmu-main")?.first {
            // A leaf: the root must have probed (ipmmu_find_root, else -EPROBE_DEFER).
            guard let rootNode = machine.tree.node(phandle: main),
                  let root = BuiltinModels.instances.first(where: { $0.node == rootNode }) as? IPMMUVMSA else {
                return .failure(.probeDefer)
            }
            let leaf = IPMMUVMSA(device: device, node: node, machine: machine, contexts: root.contexts.count,
                                 reserved: root.reservedContext)
            leaf.leafRoot = root
            return .success(leaf)
        }
        let root = IPMMUVMSA(device: device, node: node, machine: machine, contexts: count, reserved: reserved)
        root.rootContexts = Array(repeating: nil, count: count)
        if reserved { Kernel.log(.info, driver: driverName, device: name, "IPMMU context 0 is reserved") }
        return .success(root)
    }

    override var domainPageSizes: UInt64 { Self.sizes }
    override var aperture: (start: UInt64, end: UInt64) { (0, (1 << 32) - 1) }

    override func makeTable() -> ModelTable? {
        IOPageTableModelTable.lpae(ARM_32_LPAE_S1, pageSizes: Self.sizes, ias: 32, oas: 40, coherent: coherentWalk,
                                   memory: machine.memory)
    }

    /// ipmmu_find_group: one group per leaf.
    override func deviceGroup(_ dev: UnsafeMutablePointer<Device>, master: MasterConfig,
                              core: IOMMUCore) -> Result<IOMMUGroup, Errno> {
        .success(sharedInstanceGroup(core: core))
    }

    /// ipmmu_attach_device: a domain stays on the leaf it was first attached through.
    override func accepts(_ domain: ModelDomain) -> Bool {
        let others = domain.attachmentInstances
        if let first = others.first, first !== self {
            log(.error, "Can't attach IPMMU \(name) to domain on IPMMU \(first.name)")
            return false
        }
        return true
    }

    /// ipmmu_domain_allocate_context on the root: the first free context, -EBUSY when none is left.
    override func allocateContext(for domain: ModelDomain) -> Result<Int, Errno> {
        let r = root
        return r === self ? r.takeRootContext(for: domain) : r.lock.withLock { r.takeRootContext(for: domain) }
    }

    override func attachFailed(_ dev: UnsafeMutablePointer<Device>, error: Errno) {
        if error == .busy { devPrintk(.error, dev, "Unable to initialize IPMMU context") }
    }

    private func takeRootContext(for domain: ModelDomain) -> Result<Int, Errno> {
        if let i = rootContexts.firstIndex(where: { $0?.domain === domain }) {
            rootContexts[i]!.leaves += 1
            return .success(i)
        }
        let start = reservedContext ? 1 : 0
        guard let i = (start..<rootContexts.count).first(where: { rootContexts[$0] == nil }) else { return .failure(.busy) }
        rootContexts[i] = (domain, 1)
        return .success(i)
    }

    override func releaseContext(_ context: Int, of domain: ModelDomain) {
        let r = root
        let body = {
            guard context < r.rootContexts.count, let e = r.rootContexts[context], e.domain === domain else { return }
            r.rootContexts[context] = e.leaves > 1 ? (domain, e.leaves - 1) : nil
        }
        if r === self { body() } else { r.lock.withLock(body) }
    }

    override func didAttach(_ dev: UnsafeMutablePointer<Device>, context: Int, reused: Bool) {
        devPrintk(.info, dev, reused ? "Reusing IPMMU context \(context)" : "Using IPMMU context \(context)")
    }

    /// ipmmu_tlb_flush_all: the driver flushes the whole context (IMCTR.FLUSH) on every sync.
    override func invalidate(context: Int, iova: UInt64, size: UInt64) {
        super.invalidate(context: context)
    }

    /// ipmmu_domain_irq reports with the IPMMU's own device and flags 0.
    override func faultDevice(master: UnsafeMutablePointer<Device>) -> UnsafeMutablePointer<Device> { device }

    override func logFault(master: UnsafeMutablePointer<Device>, stream: UInt32, context: Int, iova: UInt64, write: Bool,
                           fault: WalkFault, handled: Bool) {
        guard !handled else { return }
        // IMSTR: TF (bit 0) for a translation fault, PF (bit 1) for a permission fault.
        let status: UInt32 = fault.kind == .permission ? 1 << 1 : 1 << 0
        log(.error, "Unhandled fault: status 0x\(String(status, radix: 16).leftPadded(to: 8)) iova \(Kernel.hex(iova))")
    }

    /// The fault flags ipmmu-vmsa passes: always 0 (it cannot tell reads from writes).
    override var reportsAccessDirection: Bool { false }
}
