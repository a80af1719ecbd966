// "arm,smmu-v3": stream IDs (one cell), a stage-1 LPAE table per domain with the CPU's granule, an ASID per
// domain, TLB invalidation by range through the command queue. Kernel: drivers/iommu/arm/arm-smmu-v3/.
import CKernel
import SwiommuBase
import SwiommuPageTable
import SwiommuPlatform

final class SMMUv3: BuiltinIOMMU, @unchecked Sendable {
    override class var driverName: String { "arm-smmu-v3" }
    override class var compatibles: [String] { ["arm,smmu-v3"] }
    override class var specifierCells: ClosedRange<Int> { 1...1 }
    override class var contextsFollowDomain: Bool { true }
    override var deferredFlush: Bool { true }
    /// ASIDs modelled per instance (16-bit on hardware; the model keeps the first 1024).
    static let asids = 1024

    let pageSizes: UInt64
    /// Commands written to the command queue (CMD_TLBI_NH_VA, CMD_TLBI_NH_ASID, CMD_SYNC).
    var commands: UInt64 = 0

    required init(device: UnsafeMutablePointer<Device>, node: UnsafeMutablePointer<DeviceNode>, machine: Machine,
                  contexts: Int, pageSizes: UInt64) {
        self.pageSizes = pageSizes
        super.init(device: device, node: node, machine: machine, contexts: contexts, pageSizes: pageSizes)
    }

    override class func make(device: UnsafeMutablePointer<Device>, node: UnsafeMutablePointer<DeviceNode>,
                             machine: Machine) -> Result<BuiltinIOMMU, Errno> {
        let sizes = IOPageTableModelTable.lpaePageSizes(cpuPageSize: machine.geometry.size)
        return .success(SMMUv3(device: device, node: node, machine: machine, contexts: asids, pageSizes: sizes))
    }

    override var domainPageSizes: UInt64 { pageSizes }
    override var aperture: (start: UInt64, end: UInt64) { (0, (1 << 48) - 1) }

    override func makeTable() -> ModelTable? {
        IOPageTableModelTable.lpae(ARM_64_LPAE_S1, pageSizes: pageSizes, ias: 48, oas: 48, coherent: coherentWalk,
                                   memory: machine.memory)
    }

    /// arm_smmu_attach_dev: a domain finalised on one SMMU cannot attach to another (-EINVAL).
    override func accepts(_ domain: ModelDomain) -> Bool {
        domain.attachmentInstances.allSatisfy { $0 === self }
    }

    /// ASIDs come from 1 (arm_smmu_asid_xa's limit); 0 stays unused.
    override func allocateContext(for domain: ModelDomain) -> Result<Int, Errno> {
        if let i = contexts.indices.dropFirst().first(where: { contexts[$0] == nil }) { return .success(i) }
        return .failure(.noSpace)
    }

    override func invalidate(context: Int, iova: UInt64, size: UInt64) {
        commands &+= 2   // CMD_TLBI_NH_VA (range) + CMD_SYNC
        super.invalidate(context: context, iova: iova, size: size)
    }

    override func invalidate(context: Int) {
        commands &+= 2   // CMD_TLBI_NH_ASID + CMD_SYNC
        super.invalidate(context: context)
    }

    /// arm_smmu_dump_event for an unhandled F_TRANSLATION / F_PERMISSION event.
    override func logFault(master: UnsafeMutablePointer<Device>, stream: UInt32, context: Int, iova: UInt64, write: Bool,
                           fault: WalkFault, handled: Bool) {
        guard !handled else { return }
        let id: UInt64 = fault.kind == .permission ? 0x13 : 0x10
        let name = fault.kind == .permission ? "F_PERMISSION" : "F_TRANSLATION"
        log(.error, "event 0x\(hex2(id)) received:")
        let raw: [UInt64] = [id | UInt64(stream) << 32, write ? 0 : 1 << 35, iova, 0]
        for word in raw { log(.error, "\t0x" + String(word, radix: 16).leftPadded(to: 16)) }
        log(.error, "event: \(name) client: \(String(cString: dev_name(master))) sid: \(Kernel.hex(stream)) ssid: 0x0 "
            + "iova: \(Kernel.hex(iova)) ipa: 0x0")
        log(.error, "unpriv data \(write ? "write" : "read") s1 \"IN\" stag: 0x0")
    }

    private func hex2(_ v: UInt64) -> String { String(v, radix: 16).leftPadded(to: 2) }
}

extension String {
    /// Zero-padded on the left to `width` characters.
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
