// "arm,mmu-500" / "arm,smmu-v2" (arm-smmu): stream ID and mask (one or two cells), stream-match entries
// that put masters with overlapping IDs in one group, and a limited number of context banks (-ENOSPC
// when exhausted). Kernel: drivers/iommu/arm/arm-smmu/arm-smmu.c.
import CKernel
import SwiommuBase
import SwiommuPageTable
import SwiommuPlatform

final class ARMSMMU: BuiltinIOMMU, @unchecked Sendable {
    override class var driverName: String { "arm-smmu" }
    override class var compatibles: [String] { ["arm,mmu-500", "arm,smmu-v2", "arm,mmu-401", "arm,mmu-400", "arm,smmu-v1"] }
    override class var specifierCells: ClosedRange<Int> { 1...2 }
    override class var contextsFollowDomain: Bool { true }
    override var deferredFlush: Bool { true }

    /// A stream-match register: ID, mask, and the group of the masters it matches. Kernel: arm_smmu_smr.
    struct StreamMatch {
        var id: UInt16
        var mask: UInt16
        var group: IOMMUGroup
        var users: Int
    }
    var streamMatches: [StreamMatch] = []
    let pageSizes: UInt64
    /// stream-match-mask from the IOMMU node, for one-cell specifiers.
    let defaultMask: UInt32

    required init(device: UnsafeMutablePointer<Device>, node: UnsafeMutablePointer<DeviceNode>, machine: Machine,
                  contexts: Int, pageSizes: UInt64) {
        self.pageSizes = pageSizes
        defaultMask = DeviceTree.cells(node, "stream-match-mask")?.first ?? 0
        super.init(device: device, node: node, machine: machine, contexts: contexts, pageSizes: pageSizes)
    }

    override class func make(device: UnsafeMutablePointer<Device>, node: UnsafeMutablePointer<DeviceNode>,
                             machine: Machine) -> Result<BuiltinIOMMU, Errno> {
        // ID1.NUMCB on hardware; the board says how many (default 8).
        let banks = Int(DeviceTree.cells(node, "swiommu,num-context-banks")?.first ?? 8)
        guard (1...128).contains(banks) else {
            Kernel.log(.error, driver: driverName, device: String(cString: dev_name(device)),
                       "swiommu,num-context-banks = \(banks): must be 1 to 128")
            return .failure(.invalid)
        }
        let sizes = IOPageTableModelTable.lpaePageSizes(cpuPageSize: machine.geometry.size)
        let smmu = ARMSMMU(device: device, node: node, machine: machine, contexts: banks, pageSizes: sizes)
        smmu.log(.info, "\(banks) context banks (0 stage-2 only)")
        return .success(smmu)
    }

    override var domainPageSizes: UInt64 { pageSizes }
    override var aperture: (start: UInt64, end: UInt64) { (0, (1 << 48) - 1) }

    override func makeTable() -> ModelTable? {
        IOPageTableModelTable.lpae(ARM_64_LPAE_S1, pageSizes: pageSizes, ias: 48, oas: 48, coherent: coherentWalk,
                                   memory: machine.memory)
    }

    /// arm_smmu_of_xlate: SMR ID in bits [15:0], mask in [31:16] (from the second cell or stream-match-mask).
    override func xlate(_ cells: [UInt32]) -> Result<[UInt32], Errno> {
        guard Self.specifierCells.contains(cells.count) else { return .failure(.invalid) }
        let mask = cells.count > 1 ? cells[1] : defaultMask
        return .success([(cells[0] & 0xffff) | (mask & 0xffff) << 16])
    }

    /// arm_smmu_device_group: a master whose stream-match entries overlap an existing one joins its group.
    override func deviceGroup(_ dev: UnsafeMutablePointer<Device>, master: MasterConfig,
                              core: IOMMUCore) -> Result<IOMMUGroup, Errno> {
        let ids = master.ports.first { $0.instance === self }?.ids ?? []
        var group: IOMMUGroup?
        for fwid in ids {
            let (id, mask) = (UInt16(fwid & 0xffff), UInt16(fwid >> 16))
            for e in streamMatches where (e.id ^ id) & ~(e.mask | mask) == 0 {
                if let g = group, g !== e.group {
                    log(.error, "\(String(cString: dev_name(dev))): stream IDs span two groups")
                    return .failure(.invalid)
                }
                group = e.group
            }
        }
        let g: IOMMUGroup
        if let group {
            core.takeReference(group)
            g = group
        } else {
            g = core.allocateGroup()
        }
        for fwid in ids {
            let (id, mask) = (UInt16(fwid & 0xffff), UInt16(fwid >> 16))
            if let i = streamMatches.firstIndex(where: { $0.id == id && $0.mask == mask }) {
                streamMatches[i].users += 1
            } else {
                streamMatches.append(StreamMatch(id: id, mask: mask, group: g, users: 1))
            }
        }
        return .success(g)
    }

    override func forget(master: MasterConfig) {
        for fwid in master.ports.first(where: { $0.instance === self })?.ids ?? [] {
            let (id, mask) = (UInt16(fwid & 0xffff), UInt16(fwid >> 16))
            if let i = streamMatches.firstIndex(where: { $0.id == id && $0.mask == mask }) {
                streamMatches[i].users -= 1
                if streamMatches[i].users == 0 { streamMatches.remove(at: i) }
            }
        }
    }

    /// arm_smmu_attach_dev: a domain finalised on one SMMU cannot attach to another (-EINVAL).
    override func accepts(_ domain: ModelDomain) -> Bool {
        domain.attachmentInstances.allSatisfy { $0 === self }
    }

    /// arm_smmu_context_fault: report, then print the context bank's registers when nobody handled it.
    override func logFault(master: UnsafeMutablePointer<Device>, stream: UInt32, context: Int, iova: UInt64, write: Bool,
                           fault: WalkFault, handled: Bool) {
        guard !handled else { return }
        // FSR: TF (bit 1) or PF (bit 3); FSYNR0: WNR (bit 4); CBFRSYNRA: the stream ID.
        let fsr: UInt32 = fault.kind == .permission ? 1 << 3 : 1 << 1
        let fsynr: UInt32 = write ? 1 << 4 : 0
        log(.error, "Unhandled context fault: fsr=\(Kernel.hex(fsr)), iova=0x\(String(iova, radix: 16).leftPadded(to: 8)), "
            + "fsynr=\(Kernel.hex(fsynr)), cbfrsynra=\(Kernel.hex(stream & 0xffff)), cb=\(context)")
    }
}
