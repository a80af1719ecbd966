// "apple,t8103-dart" (and t6000's DART2): stream IDs (one cell), DART tables with 16 KiB pages, up to two
// DARTs per master, whole-stream TLB flushes. Upstream, on a CPU with smaller pages, the driver forces
// identity default domains (def_domain_type) and refuses a DART whose configuration firmware locked
// (apple_dart_hw_reset: "DART is locked down until reboot"). swiommu's extension (the design discussion's
// proposal, the default unless /chosen has `swiommu,dart-upstream`): paging default domains on 16 KiB
// pages, and for a locked DART a domain that reuses the table firmware left in its TTBRs, which maps the
// `iommu-addresses` regions of its masters. Kernel: drivers/iommu/apple-dart.c.
import CKernel
import SwiommuBase
import SwiommuMemory
import SwiommuPageTable
import SwiommuPlatform

final class AppleDARTModel: BuiltinIOMMU, @unchecked Sendable {
    override class var driverName: String { "apple-dart" }
    override class var compatibles: [String] { ["apple,t8103-dart", "apple,t6000-dart"] }
    override class var specifierCells: ClosedRange<Int> { 1...1 }
    override class var multiInstanceMasters: Bool { true }
    override class var iotlbEntries: Int { 256 }

    static let pageSize: UInt64 = 1 << 14
    let format: io_pgtable_fmt
    let oas: UInt32
    let streams: Int
    let upstream: Bool
    /// The table firmware left in a locked DART's TTBRs (extension mode only).
    private(set) var firmwareTable: LockedDARTTable?

    required init(device: UnsafeMutablePointer<Device>, node: UnsafeMutablePointer<DeviceNode>, machine: Machine,
                  contexts: Int, pageSizes: UInt64) {
        let dart2 = DeviceTree.strings(node, "compatible").first == "apple,t6000-dart"
        format = dart2 ? APPLE_DART2 : APPLE_DART
        oas = dart2 ? 42 : 36
        streams = contexts
        upstream = machine.board.options.upstreamDART
        super.init(device: device, node: node, machine: machine, contexts: contexts, pageSizes: pageSizes)
    }

    var locked: Bool { DeviceTree.property(node, "swiommu,locked") != nil }

    override class func make(device: UnsafeMutablePointer<Device>, node: UnsafeMutablePointer<DeviceNode>,
                             machine: Machine) -> Result<BuiltinIOMMU, Errno> {
        let dart = AppleDARTModel(device: device, node: node, machine: machine, contexts: 16, pageSizes: pageSize)
        if dart.locked {
            if dart.upstream {
                // DART_T8020_CONFIG with DART_T8020_CONFIG_LOCK (bit 15) set.
                dart.log(.error, "DART is locked down until reboot: 00008000")
                return .failure(.invalid)
            }
            guard let t = dart.buildFirmwareTable() else { return .failure(.noMemory) }
            dart.firmwareTable = t
        }
        return .success(dart)
    }

    override func didRegister() {
        let bypassForced = UInt64(machine.geometry.size) < Self.pageSize
        log(.info, "DART [pagesize \(String(Self.pageSize, radix: 16)), \(streams) streams, bypass support: 1, "
            + "bypass forced: \(bypassForced && upstream ? 1 : 0)] initialized"
            + (firmwareTable != nil ? " (locked: reusing the firmware's table)" : ""))
    }

    override func willRemove() {
        firmwareTable?.release()
        firmwareTable = nil
    }

    override var domainPageSizes: UInt64 { Self.pageSize }
    override var aperture: (start: UInt64, end: UInt64) { (0, (1 << 32) - 1) }

    override func makeTable() -> ModelTable? {
        var cfg = io_pgtable_cfg()
        cfg.pgsize_bitmap = UInt(Self.pageSize)
        cfg.ias = 32
        cfg.oas = oas
        cfg.coherent_walk = true   // apple_dart_finalize_domain: DART walks are coherent
        return IOPageTableModelTable(format: format, config: cfg, memory: machine.memory)
    }

    override func canShareTable(with other: BuiltinIOMMU) -> Bool {
        guard let d = other as? AppleDARTModel else { return false }
        return d.format == format && d.oas == oas
    }

    /// What firmware left behind: a DART table mapping 1:1 the direct `iommu-addresses` regions of the masters
    /// behind this DART (the framebuffer it scans out), its base in the locked TTBRs.
    private func buildFirmwareTable() -> LockedDARTTable? {
        guard let t = makeTable() as? IOPageTableModelTable else { return nil }
        var mapped: UInt64 = 0
        for pdev in machine.drivers.devices {
            guard let np = pdev.pointee.dev.of_node,
                  DeviceState.of(pdev.device).channels.contains(where: { $0.iommu == node }) else { continue }
            for r in machine.reservedRegions(of: np) where r.type == .direct {
                let start = r.start & ~(Self.pageSize - 1)
                let end = (r.start + r.length + Self.pageSize - 1) & ~(Self.pageSize - 1)
                var done = 0
                let ret = t.map(iova: start, paddr: start, pageSize: Self.pageSize, count: Int((end - start) / Self.pageSize),
                                prot: 3, gfp: GFP.kernel.rawValue, mapped: &done)
                if ret != 0 { log(.error, "swiommu: firmware table: cannot map \(r.node) (\(ret))") }
                mapped += UInt64(done)
            }
        }
        return LockedDARTTable(table: t, firmwareBytes: mapped)
    }

    /// apple_dart_def_domain_type: identity when the DART's pages exceed the CPU's (upstream only).
    override func defaultDomainType(_ dev: UnsafeMutablePointer<Device>) -> UInt32 {
        upstream && UInt64(machine.geometry.size) < Self.pageSize ? IOMMU_DOMAIN_IDENTITY_VALUE : 0
    }

    /// A domain for a master behind a locked DART starts on the firmware's table.
    override func allocateDomain(for dev: UnsafeMutablePointer<Device>) -> UnsafeMutablePointer<IOMMUDomain>? {
        if let fw = firmwareTable, !fw.adopted,
           let d = ModelDomain(instance: self, ops: BuiltinModels.domainOps, table: fw, mappedBytes: fw.firmwareBytes) {
            fw.adopted = true
            return d.domain
        }
        return super.allocateDomain(for: dev)
    }

    /// A locked DART walks only the firmware's table: the domain must hold it, or be empty enough to take it.
    override func tableChoice(for domain: ModelDomain) -> TableChoice {
        guard let fw = firmwareTable else { return .shareOrMake }
        if let i = domain.index(of: fw) { return .index(i) }
        guard !fw.adopted, let i = domain.appendTable(fw, of: self) else {
            log(.error, "swiommu: the DART's TTBRs are locked: a domain must reuse the firmware's table "
                + "(attach it before mapping, while no other domain holds the table)")
            return .refuse
        }
        fw.adopted = true
        return .index(i)
    }

    /// apple_dart_domain_flush_tlb: the DART flushes whole streams, never a range.
    override func invalidate(context: Int, iova: UInt64, size: UInt64) {
        super.invalidate(context: context)
    }

    /// apple_dart_t8020_irq: the DART logs the error register; no report reaches a handler upstream, swiommu
    /// reports first and logs what nobody handled.
    override func logFault(master: UnsafeMutablePointer<Device>, stream: UInt32, context: Int, iova: UInt64, write: Bool,
                           fault: WalkFault, handled: Bool) {
        guard !handled else { return }
        let (code, name): (UInt32, String) = switch fault.kind {
        case .permission: write ? (1 << 3, "WRITE FAULT") : (1 << 4, "READ FAULT")
        default: fault.level <= 1 ? (1 << 1, "NO PMD FOR IOVA") : (1 << 2, "NO PTE FOR IOVA")
        }
        let status = 1 << 31 | (stream & 0xf) << 24 | code
        log(.error, "translation fault: status:\(Kernel.hex(status)) stream:\(stream) code:\(Kernel.hex(code)) (\(name)) at \(Kernel.hex(iova))")
    }
}

/// A locked DART's firmware table: domains borrow it; it outlives them (the hardware keeps walking it).
final class LockedDARTTable: ModelTable {
    let table: IOPageTableModelTable
    /// Bytes firmware mapped.
    let firmwareBytes: UInt64
    /// Whether a domain holds it now.
    var adopted = false

    init(table: IOPageTableModelTable, firmwareBytes: UInt64) {
        self.table = table
        self.firmwareBytes = firmwareBytes
    }

    func map(iova: UInt64, paddr: UInt64, pageSize: UInt64, count: Int, prot: Int32, gfp: UInt32, mapped: inout Int) -> Int32 {
        table.map(iova: iova, paddr: paddr, pageSize: pageSize, count: count, prot: prot, gfp: gfp, mapped: &mapped)
    }
    func unmap(iova: UInt64, pageSize: UInt64, count: Int) -> UInt64 { table.unmap(iova: iova, pageSize: pageSize, count: count) }
    func iovaToPhys(_ iova: UInt64) -> UInt64 { table.iovaToPhys(iova) }
    func walk(_ iova: UInt64, write: Bool) -> Result<HardwareWalk, WalkFault> { table.walk(iova, write: write) }
    var tableBase: UInt64 { table.tableBase }
    func dump() -> String { table.dump() }
    /// A domain lets go: the table stays with the DART.
    func destroy() { adopted = false }
    /// The DART goes: the table is freed.
    func release() { table.destroy() }
}
