// The virtual clock the rcaches' depot trim runs on: the kernel's delayed work (IOVA_DEPOT_DELAY, 100 ms) fires
// when a test advances the clock past its due time, so the trim is as deterministic as everything else. Nothing
// advances it on its own: a program that never calls swiommu_iova_clock_advance() keeps its depots untrimmed
// (they are freed with the domain, or by a flush).
import CSwiommuGlue
import SwiommuBase

/// A process-wide virtual clock in milliseconds and the domains whose depot work it drives. Kernel: jiffies and
/// `schedule_delayed_work` on `system_wq`.
public enum IOVAClock {
    /// Kernel: `IOVA_DEPOT_DELAY` = msecs_to_jiffies(100).
    public static let depotDelay: UInt64 = 100

    final class State: @unchecked Sendable {
        let lock = Lock()
        var domains: [IOVADomain] = []
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

    static func register(_ d: IOVADomain) {
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
