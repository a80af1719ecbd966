// A paging domain of a built-in model: its table(s) and the hardware contexts it is programmed into. One
// domain may serve masters behind several instances: they walk one shared table when their formats allow
// (the usual case, and how a domain reuses a locked DART's firmware table), otherwise the domain keeps a
// table per format and applies every map and unmap to each. Invalidations reach every instance attached.
import Glibc
import Synchronization
import CKernel
import CSwiommuGlue
import SwiommuBase
import SwiommuMemory
import SwiommuPageTable
import SwiommuPlatform

final class ModelDomain: @unchecked Sendable {
    /// One instance the domain is programmed into.
    struct Attachment {
        let instance: BuiltinIOMMU
        let context: Int
        let table: Int
        /// Masters (ports) using it.
        var users: Int
    }

    /// `struct iommu_domain`, followed by this object's unmanaged reference.
    let storage: UnsafeMutableRawPointer
    var domain: UnsafeMutablePointer<IOMMUDomain> { storage.assumingMemoryBound(to: IOMMUDomain.self) }
    /// The tables; [0] is the one iova_to_phys reads. `tableOwners[i]` is the instance table i was made for.
    private(set) var tables: [ModelTable] {
        didSet {
            fast = tables.count == 1 ? tables[0].ioPageTable : nil
            openLocklessPath()
        }
    }
    private(set) var tableOwners: [BuiltinIOMMU]
    /// Table 0 as a bare io-pgtable handle while it is the only table (the usual case): map and unmap go
    /// straight to it, with no reference counting.
    private var fast: IOPageTable?
    /// `fast` as its `IOPageTable.word`, or 0 while there is none or attach is adding a table (see
    /// `closeLocklessPathIfEmpty`): map and unmap of a thread with a CPU number go to it without the domain's lock,
    /// marked busy in `perCPU` instead, as io-pgtable's map and unmap run without a lock in the kernel
    /// (arm_smmu_map_pages and arm_smmu_unmap_pages take none). Written under the lock.
    private let lockless = Atomic<Int>(0)
    /// Per CPU number: the busy mark of the lockless path and the counts of its maps and unmaps (`Count`); the
    /// shared block counts the locked path's, under the lock.
    private let perCPU: PerCPUCounters
    private enum Count {
        static let maps = 0, unmaps = 1, mappedBytes = 2, unmappedBytes = 3
    }
    private(set) var attachments: [Attachment] = [] {
        didSet {
            var word = 0
            if attachments.count == 1, attachments[0].context >= 0, attachments[0].context < 1 << 15,
               case let address = Int(bitPattern: Unmanaged.passUnretained(attachments[0].instance).toOpaque()),
               address >> 48 == 0 {
                word = address | attachments[0].context << 48
            }
            sole.store(word, ordering: .releasing)
        }
    }
    /// The only attachment, while there is exactly one (the usual case), as its instance's address (low 48
    /// bits) and context (bits 48-62, so below 2^15; a larger one goes the locked way), else 0. Written under
    /// the lock, read without it: a strict unmap's invalidation reaches the instance as
    /// arm_smmu_tlb_inv_range_domain does, through the instance's command queue (here its lock) and no lock of
    /// the domain.
    private let sole = Atomic<Int>(0)
    /// The invalidations the domain sent its instances. Incremented with a plain load and store (no locked
    /// instruction) under the lock of the instance invalidated, or the domain's: two instances invalidating at
    /// once while the domain's attachments change may lose one count; the dump's figure is otherwise exact.
    private let invalidationCount = Atomic<Int>(0)
    /// Table 0 as a bare io-pgtable handle when it is one (it never changes): iova_to_phys walks it without the
    /// domain's lock, as arm_lpae_iova_to_phys, arm_v7s_iova_to_phys and dart_iova_to_phys walk theirs.
    private let locklessWalk: IOPageTable?
    /// The domain's lock (attach, detach, and map and unmap while the lockless path is closed): a spinlock, as
    /// those maps and unmaps take it every call.
    let lock = SpinLock()
    /// Bytes mapped before the domain existed (a DART's firmware table): part of `liveBytes`, not of `counters`.
    private let initialBytes: UInt64

    static let storageSize = MemoryLayout<IOMMUDomain>.stride + MemoryLayout<UnsafeRawPointer>.stride

    /// A domain made for a device behind `instance`, with the table `instance` makes. Nil when the table
    /// cannot be allocated.
    init?(instance: BuiltinIOMMU, ops: UnsafePointer<iommu_domain_ops>, table: ModelTable? = nil, mappedBytes: UInt64 = 0) {
        guard let t = table ?? instance.makeTable() else { return nil }
        tables = [t]
        tableOwners = [instance]
        guard let c = PerCPUCounters() else {
            if table == nil { t.destroy() }
            return nil
        }
        perCPU = c
        fast = t.ioPageTable
        locklessWalk = t.ioPageTable
        initialBytes = mappedBytes
        storage = calloc(1, Self.storageSize)!
        let d = storage.assumingMemoryBound(to: IOMMUDomain.self)
        d.pointee.type = IOMMU_DOMAIN_UNMANAGED_VALUE
        d.pointee.ops = ops
        d.pointee.pgsize_bitmap = UInt(instance.domainPageSizes)
        d.pointee.geometry.aperture_start = instance.aperture.start
        d.pointee.geometry.aperture_end = instance.aperture.end
        d.pointee.geometry.force_aperture = true
        (storage + MemoryLayout<IOMMUDomain>.stride).storeBytes(of: Unmanaged.passRetained(self).toOpaque(),
                                                               as: UnsafeRawPointer.self)
        openLocklessPath()
    }

    deinit { perCPU.deallocate() }

    @inline(__always)
    static func from(_ d: UnsafeMutablePointer<IOMMUDomain>) -> ModelDomain {
        unmanaged(d).takeUnretainedValue()
    }

    /// The domain without a reference count, for the map/unmap hot path.
    @inline(__always)
    static func unmanaged(_ d: UnsafeMutablePointer<IOMMUDomain>) -> Unmanaged<ModelDomain> {
        Unmanaged<ModelDomain>.fromOpaque((UnsafeRawPointer(d) + MemoryLayout<IOMMUDomain>.stride).load(as: UnsafeRawPointer.self))
    }

    /// Kernel: the driver's domain free. Tables go; the reference the storage held is dropped.
    func free() {
        swiommu_glue_route_generation_bump()
        if attachments.contains(where: { $0.users > 0 }) {
            Kernel.warn("swiommu: freeing a domain still attached to \(attachments.filter { $0.users > 0 }.count) IOMMU(s)")
        }
        // The driver's domain_free: the contexts (context banks, ASIDs) go, with a TLB invalidation.
        for a in attachments {
            a.instance.lock.withLock {
                a.instance.invalidate(context: a.context)
                a.instance.uninstall(context: a.context)
                a.instance.releaseContext(a.context, of: self)
            }
        }
        attachments.removeAll()
        lockless.store(0, ordering: .releasing)
        for t in tables { t.destroy() }
        tables.removeAll()
        tableOwners.removeAll()
        let raw = (storage + MemoryLayout<IOMMUDomain>.stride).load(as: UnsafeRawPointer.self)
        Glibc.free(storage)
        Unmanaged<ModelDomain>.fromOpaque(raw).release()
    }

    /// The context this domain has on `instance`, or nil (takes the domain's lock: attach and detach change it).
    func context(on instance: BuiltinIOMMU) -> Int? {
        lock.withLock {
            for a in attachments where a.instance === instance { return a.context }
            return nil
        }
    }

    // MARK: Attach. Kernel: the drivers' attach_dev (context allocation, STE/SMR/uTLB programming).

    /// Program every port of `master` for this domain: 0, or the driver's errno (nothing changed then).
    func attach(_ master: MasterConfig, dev: UnsafeMutablePointer<Device>) -> Int32 {
        // Attaching the domain a master is on already changes nothing, as the drivers' attach_dev (the core
        // counts on it when it takes a group back after a failed switch).
        if master.domain === self { return 0 }
        // An instance with one base register (a SysMMU, a Rockchip IOMMU, a DART stream) switches domains:
        // the old one lets go of it first, as rk_iommu_attach_device and exynos_iommu_attach_device do.
        let switching = master.domain.flatMap { old -> ModelDomain? in
            guard old !== self, master.ports.contains(where: { !type(of: $0.instance).contextsFollowDomain }) else { return nil }
            return old
        }
        if let old = switching { old.detach(master) }
        let ret = attachLocked(master, dev: dev)
        if ret != 0, let old = switching, old.attachLocked(master, dev: dev) == 0 {
            old.finishAttach(master)
        } else if ret == 0 {
            finishAttach(master)
        }
        return ret
    }

    private func finishAttach(_ master: MasterConfig) {
        if let old = master.domain, old !== self { old.detach(master) }
        master.domain = self
        swiommu_glue_route_generation_bump()
        for port in master.ports {
            port.instance.lock.withLock { port.instance.enabledStreams.formUnion(port.ids) }
        }
    }

    private func attachLocked(_ master: MasterConfig, dev: UnsafeMutablePointer<Device>) -> Int32 {
        lock.lock()
        var added: [Int] = []
        var ret: Int32 = 0
        for port in master.ports {
            if let i = attachments.firstIndex(where: { $0.instance === port.instance }) {
                if attachments[i].users == 0 {
                    // A context kept with its domain: program it again.
                    let a = attachments[i]
                    a.instance.lock.withLock { a.instance.install(self, table: a.table, at: a.context) }
                }
                attachments[i].users += 1
                added.append(i)
                port.instance.didAttach(dev, context: attachments[i].context, reused: true)
                continue
            }
            guard port.instance.accepts(self) else {
                ret = Errno.invalid.negated
                break
            }
            guard let table = tableIndex(for: port.instance) else {
                port.instance.log(.error, "swiommu: domain cannot be shared with \(String(cString: dev_name(dev))): "
                                  + "its mappings live in a table format this instance does not walk; attach before mapping")
                ret = Errno.invalid.negated
                break
            }
            let allocated = port.instance.lock.withLock { port.instance.allocateContext(for: self) }
            guard case .success(let context) = allocated else {
                if case .failure(let e) = allocated {
                    ret = e.negated
                    port.instance.attachFailed(dev, error: e)
                }
                break
            }
            port.instance.lock.withLock { port.instance.install(self, table: table, at: context) }
            attachments.append(Attachment(instance: port.instance, context: context,
                                          table: table, users: 1))
            added.append(attachments.count - 1)
            port.instance.didAttach(dev, context: context, reused: false)
        }
        if ret != 0 {
            for i in added.reversed() { release(at: i) }
            dropUnusedTables()
            lock.unlock()
            return ret
        }
        lock.unlock()
        return 0
    }

    /// Unprogram `master`'s ports (the master moves to another domain, identity, or blocked).
    func detach(_ master: MasterConfig) {
        lock.withLock {
            for port in master.ports {
                if let i = attachments.firstIndex(where: { $0.instance === port.instance }) { release(at: i) }
            }
        }
        if master.domain === self { master.domain = nil }
        swiommu_glue_route_generation_bump()
    }

    private func release(at i: Int) {
        attachments[i].users -= 1
        guard attachments[i].users == 0 else { return }
        // A context that lives with its domain stays allocated (and its IOTLB entries with it, as on the
        // hardware until the driver invalidates); the others go now.
        guard !type(of: attachments[i].instance).contextsFollowDomain else { return }
        let a = attachments.remove(at: i)
        a.instance.lock.withLock {
            a.instance.uninstall(context: a.context)
            a.instance.releaseContext(a.context, of: self)
        }
    }

    /// The table `instance` walks: a shared one when the formats allow, else a new one (only while the domain
    /// is empty: a populated table cannot be copied). Nil when neither is possible.
    private func tableIndex(for instance: BuiltinIOMMU) -> Int? {
        switch instance.tableChoice(for: self) {
        case .index(let i): return i
        case .refuse: return nil
        case .shareOrMake: break
        }
        for (i, owner) in tableOwners.enumerated() where instance.canShareTable(with: owner) { return i }
        defer { openLocklessPath() }
        guard closeLocklessPathIfEmpty(), let t = instance.makeTable() else { return nil }
        tables.append(t)
        tableOwners.append(instance)
        return tables.count - 1
    }

    /// Bytes mapped now, firmware's included (the port-power rule: a scan-out keeps its port up). Exact
    /// once the maps and unmaps in flight have returned.
    var liveBytes: UInt64 {
        let mapped = initialBytes &+ UInt64(truncatingIfNeeded: perCPU.sum(Count.mappedBytes))
        let unmapped = UInt64(truncatingIfNeeded: perCPU.sum(Count.unmappedBytes))
        return mapped > unmapped ? mapped &- unmapped : 0
    }

    /// map_pages and unmap_pages batches and their bytes. (The invalidations, iotlb_sync, flush_iotlb_all
    /// and unmaps without a gather, are `invalidationCount`.)
    var counters: (maps: Int, unmaps: Int, mappedBytes: UInt64, unmappedBytes: UInt64) {
        (perCPU.sum(Count.maps), perCPU.sum(Count.unmaps), UInt64(truncatingIfNeeded: perCPU.sum(Count.mappedBytes)),
         UInt64(truncatingIfNeeded: perCPU.sum(Count.unmappedBytes)))
    }

    // MARK: The lockless path

    /// Publish `fast` to the lockless path (0 when there is none). Caller holds the lock, or is `init`.
    private func openLocklessPath() {
        lockless.store(fast?.word ?? 0, ordering: .releasing)
    }

    /// Close the lockless path and wait for the maps and unmaps on it to return; true when the domain then maps
    /// nothing, so that attach may add a table (which a map on table 0 alone would miss). The caller holds the
    /// lock, and reopens the path with `openLocklessPath` when done.
    private func closeLocklessPathIfEmpty() -> Bool {
        lockless.store(0, ordering: .releasing)
        perCPU.waitForIdle()
        return liveBytes == 0
    }

    /// The index of `table` among the domain's tables.
    func index(of table: ModelTable) -> Int? { tables.firstIndex { $0 === table } }

    /// Add a table `instance` walks, while the domain is empty (called with the domain locked, from attach).
    func appendTable(_ table: ModelTable, of instance: BuiltinIOMMU) -> Int? {
        defer { openLocklessPath() }
        guard closeLocklessPathIfEmpty() else { return nil }
        tables.append(table)
        tableOwners.append(instance)
        return tables.count - 1
    }

    /// The instances the domain is programmed into.
    var instances: [BuiltinIOMMU] { lock.withLock { attachmentInstances } }
    /// The same, for callers that hold the domain's lock (attach's hooks).
    var attachmentInstances: [BuiltinIOMMU] { attachments.map(\.instance) }

    /// Tables beyond the first that no attachment walks any more go.
    private func dropUnusedTables() {
        var i = tables.count - 1
        while i > 0 {
            if !attachments.contains(where: { $0.table == i }) && i == tables.count - 1 {
                tables.removeLast().destroy()
                tableOwners.removeLast()
            }
            i -= 1
        }
    }

    // MARK: Map and unmap. Kernel: the drivers' map_pages/unmap_pages over io-pgtable or their own tables.

    @inline(__always)
    func map(iova: UInt64, paddr: UInt64, pageSize: UInt64, count: Int, prot: Int32, gfp: UInt32,
             mapped: UnsafeMutablePointer<Int>) -> Int32 {
        let r = onLocklessTable { t, cpu in
            let before = mapped.pointee
            let r = t.mapPages(iova: iova, paddr: paddr, pageSize: pageSize, count: count, prot: prot, gfp: gfp,
                               mapped: &mapped.pointee)
            self.count(map: mapped.pointee &- before, cpu: cpu)
            return r
        }
        return r ?? mapLocked(iova: iova, paddr: paddr, pageSize: pageSize, count: count, prot: prot, gfp: gfp,
                              mapped: mapped)
    }

    /// `body` on the lockless path's table, with the calling thread's CPU marked busy; nil when the path is
    /// closed or the thread has no CPU number (the caller then takes the lock).
    @inline(__always) private func onLocklessTable<R>(_ body: (IOPageTable, _ cpu: Int) -> R) -> R? {
        let cpu = ThreadCPU.current()
        guard cpu >= 0 else { return nil }
        perCPU.enter(cpu)
        defer { perCPU.exit(cpu) }
        let word = lockless.load(ordering: .acquiring)
        return word != 0 ? body(IOPageTable(word: word), cpu) : nil
    }

    @inline(__always) private func count(map n: Int, cpu: Int) {
        guard n > 0 else { return }
        perCPU.add(1, to: Count.maps, cpu: cpu)
        perCPU.add(n, to: Count.mappedBytes, cpu: cpu)
    }

    @inline(__always) private func count(unmap n: Int, cpu: Int) {
        guard n > 0 else { return }
        perCPU.add(1, to: Count.unmaps, cpu: cpu)
        perCPU.add(n, to: Count.unmappedBytes, cpu: cpu)
    }

    /// `map` under the domain's lock: every table, counted in the shared block.
    private func mapLocked(iova: UInt64, paddr: UInt64, pageSize: UInt64, count: Int, prot: Int32, gfp: UInt32,
                           mapped: UnsafeMutablePointer<Int>) -> Int32 {
        lock.lock()
        defer { lock.unlock() }
        if let t = fast {
            let before = mapped.pointee
            let r = t.mapPages(iova: iova, paddr: paddr, pageSize: pageSize, count: count, prot: prot, gfp: gfp,
                               mapped: &mapped.pointee)
            self.count(map: mapped.pointee &- before, cpu: PerCPUCounters.shared)
            return r
        }
        var done = 0
        var ret = tables[0].map(iova: iova, paddr: paddr, pageSize: pageSize, count: count, prot: prot, gfp: gfp, mapped: &done)
        if tables.count > 1 && done > 0 {
            for t in tables.dropFirst() {
                var m = 0
                let r = t.map(iova: iova, paddr: paddr, pageSize: pageSize, count: done / Int(pageSize), prot: prot,
                              gfp: gfp, mapped: &m)
                if r != 0 {
                    // Keep the tables in step: take back what every table mapped of this batch.
                    for u in tables { _ = u.unmap(iova: iova, pageSize: pageSize, count: done / Int(pageSize)) }
                    done = 0
                    ret = r
                    break
                }
            }
        }
        self.count(map: done, cpu: PerCPUCounters.shared)
        mapped.pointee += done
        return ret
    }

    @inline(__always)
    func unmap(iova: UInt64, pageSize: UInt64, count: Int, gather: UnsafeMutablePointer<iommu_iotlb_gather>?) -> Int {
        let unmapped = onLocklessTable { t, cpu in
            let n = t.unmap(iova: IOVirtualAddress(iova), pageSize: pageSize, count: count)
            self.count(unmap: Int(truncatingIfNeeded: n), cpu: cpu)
            return n
        }
        let n = unmapped ?? unmapLocked(iova: iova, pageSize: pageSize, count: count)
        guard n > 0 else { return 0 }
        if let gather, !gather.pointee.queued {
            // iommu_iotlb_gather_add_range, with the page size io-pgtable's tlb_add_page would record.
            let end = UInt(iova &+ n &- 1)
            if gather.pointee.start > UInt(iova) { gather.pointee.start = UInt(iova) }
            if gather.pointee.end < end { gather.pointee.end = end }
            gather.pointee.pgsize = Int(pageSize)
        } else if gather == nil {
            invalidate(iova: iova, size: n)
        }
        return Int(n)
    }

    /// `unmap`'s tables under the domain's lock, counted in the shared block.
    private func unmapLocked(iova: UInt64, pageSize: UInt64, count: Int) -> UInt64 {
        lock.lock()
        defer { lock.unlock() }
        let n = fast.map { $0.unmap(iova: IOVirtualAddress(iova), pageSize: pageSize, count: count) }
            ?? tables[0].unmap(iova: iova, pageSize: pageSize, count: count)
        if fast == nil && tables.count > 1 && n > 0 {
            for t in tables.dropFirst() { _ = t.unmap(iova: iova, pageSize: n, count: 1) }
        }
        self.count(unmap: Int(truncatingIfNeeded: n), cpu: PerCPUCounters.shared)
        return n
    }

    @inline(__always)
    func iovaToPhys(_ iova: UInt64) -> UInt64 {
        if let t = locklessWalk { return t.iovaToPhys(IOVirtualAddress(iova)).rawValue }
        lock.lock()
        defer { lock.unlock() }
        if let t = fast { return t.iovaToPhys(IOVirtualAddress(iova)).rawValue }
        return tables.isEmpty ? 0 : tables[0].iovaToPhys(iova)
    }

    // MARK: IOTLB maintenance

    /// Kernel: iotlb_sync: invalidate the gathered range on every instance (strict mode's cost).
    func sync(_ gather: UnsafeMutablePointer<iommu_iotlb_gather>?) {
        guard let gather, gather.pointee.pgsize != 0, gather.pointee.end >= gather.pointee.start else { return }
        invalidate(iova: UInt64(gather.pointee.start), size: UInt64(gather.pointee.end - gather.pointee.start) &+ 1)
    }

    func invalidate(iova: UInt64, size: UInt64) {
        let word = sole.load(ordering: .acquiring)
        if word != 0 {
            let context = word &>> 48
            let inst = Unmanaged<BuiltinIOMMU>.fromOpaque(UnsafeRawPointer(bitPattern: word & 0xffff_ffff_ffff).unsafelyUnwrapped)
            inst._withUnsafeGuaranteedRef { inst in
                inst.lock.lock()
                countInvalidation()
                inst.invalidate(context: context, iova: iova, size: size)
                inst.lock.unlock()
            }
            return
        }
        // Several instances (or none): the attachments under the domain's lock.
        lock.withLock {
            countInvalidation()
            for a in attachments {
                a.instance.lock.withLock { a.instance.invalidate(context: a.context, iova: iova, size: size) }
            }
        }
    }

    @inline(__always) private func countInvalidation() {
        invalidationCount.store(invalidationCount.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
    }

    /// Invalidations sent so far (see `invalidationCount`).
    var invalidations: Int { invalidationCount.load(ordering: .relaxed) }

    /// Kernel: flush_iotlb_all.
    func flushAll() {
        lock.withLock {
            countInvalidation()
            for a in attachments { a.instance.lock.withLock { a.instance.invalidate(context: a.context) } }
        }
    }
}
