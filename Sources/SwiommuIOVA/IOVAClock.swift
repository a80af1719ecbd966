// The virtual clock the rcaches' depot trim runs on: the kernel's delayed work (IOVA_DEPOT_DELAY, 100 ms) fires
// when a test advances the clock past its due time, so the trim is as deterministic as everything else. Nothing
// advances it on its own: a program that never calls swiommu_iova_clock_advance() keeps its depots untrimmed
// (they are freed with the domain, or by a flush).
import CSwiommuGlue
import SwiommuBase

/// A process-wide virtual clock in milliseconds, the domains whose depot work it drives and the timers of other
/// layers. Kernel: jiffies, `schedule_delayed_work` on `system_wq`, timers.
public enum IOVAClock {
    /// Kernel: `IOVA_DEPOT_DELAY` = msecs_to_jiffies(100).
    public static let depotDelay: UInt64 = 100

    final class State: @unchecked Sendable {
        let lock = Lock()
        var domains: [IOVADomain] = []
        /// Armed timers of other layers.
        var timers: [Timer] = []
    }

    /// A timer another layer runs on this clock (dma-iommu's flush-queue timer). It fires, under the clock's
    /// lock, when an advance reaches its due time; its function must not arm or cancel timers. Kernel:
    /// `struct timer_list`, `mod_timer`, `timer_delete_sync`.
    public final class Timer: @unchecked Sendable {
        fileprivate var due: UInt64 = 0
        fileprivate let function: () -> Void
        public init(_ function: @escaping () -> Void) { self.function = function }

        /// Kernel: `mod_timer(timer, jiffies + msecs_to_jiffies(ms))`: (re)arm to fire `ms` from now.
        public func arm(after ms: UInt64) {
            let s = IOVAClock.state
            s.lock.lock()
            due = IOVAClock.now &+ ms
            if !s.timers.contains(where: { $0 === self }) { s.timers.append(self) }
            s.lock.unlock()
        }

        /// Kernel: `timer_delete_sync`: disarm, waiting for a run in progress.
        public func cancel() {
            let s = IOVAClock.state
            s.lock.lock()
            s.timers.removeAll { $0 === self }
            s.lock.unlock()
        }
    }

    static let state = State()
    /// Read without the clock's lock (domains read it under their own lock when they schedule work).
    nonisolated(unsafe) static let nowStorage: UnsafeMutablePointer<Int> = {
        let p = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        p.initialize(to: 0)
        return p
    }()

    /// Milliseconds of virtual time so far.
    public static var now: UInt64 { UInt64(swiommu_glue_atomic_load_long(nowStorage)) }

    /// Advance by `ms`, running each domain's due depot work in time order (ties: domains in the order their
    /// rcaches were set up, then size classes in ascending order). Work that reschedules itself within the
    /// interval runs again.
    public static func advance(by ms: UInt64) {
        let s = state
        s.lock.lock()
        defer { s.lock.unlock() }
        let target = now &+ ms
        while true {
            var best: (due: UInt64, domain: IOVADomain, sizeClass: Int)?
            for d in s.domains {
                if let (due, c) = d.nextDepotWork(dueBy: target), best == nil || due < best!.due {
                    best = (due, d, c)
                }
            }
            // Timers due strictly before the next depot work run first.
            if let t = s.timers.filter({ $0.due <= target }).min(by: { $0.due < $1.due }), best == nil || t.due < best!.due {
                s.timers.removeAll { $0 === t }
                swiommu_glue_atomic_store_long(nowStorage, Int(t.due))
                t.function()
                continue
            }
            guard let b = best else { break }
            swiommu_glue_atomic_store_long(nowStorage, Int(b.due))
            b.domain.runDepotWork(sizeClass: b.sizeClass, at: b.due)
        }
        swiommu_glue_atomic_store_long(nowStorage, Int(target))
    }

    /// The domains with rcaches (a copy, taken under the clock's lock).
    static var registeredDomains: [IOVADomain] {
        let s = state
        s.lock.lock()
        defer { s.lock.unlock() }
        return s.domains
    }

    /// The domains give a dead CPU's cached ranges back to their trees (the hook is added at the first
    /// registration). Kernel: `iova_cpuhp_dead`.
    private static let cpuDeadHook: Void = ThreadCPU.addDeadHook { cpu in
        for d in IOVAClock.registeredDomains { d.cpuDead(cpu) }
    }

    static func register(_ d: IOVADomain) {
        _ = cpuDeadHook
        let s = state
        s.lock.lock()
        s.domains.append(d)
        s.lock.unlock()
    }

    static func unregister(_ d: IOVADomain) {
        let s = state
        s.lock.lock()
        s.domains.removeAll { $0 === d }
        s.lock.unlock()
    }
}
