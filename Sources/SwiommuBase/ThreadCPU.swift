// Which CPU a thread counts as, for everything the kernel keeps per CPU (the rcaches' magazines, the flush
// queues, the model domains' counters), and the simulated num_online_cpus() that bounds the rcaches' depots.
import Glibc
import CSwiommuGlue

/// The CPU numbers threads count as, process-wide. A thread takes the lowest free number at its first fast call
/// and gives it back when it exits; `set(_:)` picks one. Kernel: `smp_processor_id()`, `num_online_cpus()`.
public enum ThreadCPU {
    /// CPU numbers are 0 ..< maxCPUs. Kernel: `nr_cpu_ids`.
    public static let maxCPUs = 256
    public static let defaultOnlineCPUs = 8

    final class State: @unchecked Sendable {
        let lock = Lock()
        var taken = [Bool](repeating: false, count: ThreadCPU.maxCPUs)
        var online = ThreadCPU.defaultOnlineCPUs
        var warnedFull = false
        var deadHooks: [@Sendable (Int) -> Void] = []
    }

    static let state = State()

    /// The thread's number + 2 (1: none free; unset: not assigned yet), kept for its destructor, which runs at
    /// the thread's exit; the fast paths read the same value from the glue's per-thread copy.
    static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k) { value in ThreadCPU.threadExit(value) }
        return k
    }()

    /// The CPU the calling thread counts as, or -1 when every number is taken by a live thread (the thread then
    /// bypasses the rcaches, and takes the locks that the per-CPU paths of the flush queues and model domains
    /// spare the others).
    @inlinable @inline(__always) public static func current() -> Int {
        let value = swiommu_glue_thread_cpu_get()
        return value != 0 ? value &- 2 : assignLowest()
    }

    /// Record the calling thread's number (+ 2; nil: none yet) under the key and in its per-thread copy.
    private static func store(_ value: Int?) {
        pthread_setspecific(key, value.flatMap { UnsafeRawPointer(bitPattern: $0) })
        swiommu_glue_thread_cpu_set(value ?? 0)
    }

    @usableFromInline @inline(never) static func assignLowest() -> Int {
        let s = state
        s.lock.lock()
        var cpu = -1
        if let i = s.taken.firstIndex(of: false) {
            s.taken[i] = true
            cpu = i
        }
        let warn = cpu < 0 && !s.warnedFull
        if warn { s.warnedFull = true }
        s.lock.unlock()
        store(cpu + 2)
        if warn {
            Kernel.log(.warning, "iova: more than \(maxCPUs) threads use the rcaches; the others bypass them")
        }
        return cpu
    }

    /// Make the calling thread count as `cpu` (-1: the lowest free number). `.busy` when another live thread
    /// counts as it, `.invalid` when out of range.
    public static func set(_ cpu: Int) -> Errno? {
        guard cpu >= -1 && cpu < maxCPUs else { return .invalid }
        let value = swiommu_glue_thread_cpu_get()
        let mine: Int? = value != 0 ? value - 2 : nil
        if cpu == -1 {
            if let mine, mine >= 0 { release(mine) }
            store(nil)
            _ = assignLowest()
            return nil
        }
        if mine == cpu { return nil }
        let s = state
        s.lock.lock()
        if s.taken[cpu] {
            s.lock.unlock()
            return .busy
        }
        s.taken[cpu] = true
        if let mine, mine >= 0 { s.taken[mine] = false }
        s.lock.unlock()
        store(cpu + 2)
        return nil
    }

    static func release(_ cpu: Int) {
        let s = state
        s.lock.lock()
        s.taken[cpu] = false
        s.lock.unlock()
    }

    /// The key's destructor: a thread's exit is its CPU going offline. Every domain gives that CPU's cached ranges
    /// back to its tree and frees its magazines, then the number is free for another thread. Kernel:
    /// `iova_cpuhp_dead`.
    static func threadExit(_ value: UnsafeMutableRawPointer?) {
        // glibc has cleared the key; the per-thread copy goes too, so that a call from here gets a new number
        // (and this destructor again), as before the copy existed.
        swiommu_glue_thread_cpu_set(0)
        guard let value else { return }
        let cpu = Int(bitPattern: value) - 2
        guard cpu >= 0 else { return }
        let s = state
        s.lock.lock()
        let hooks = s.deadHooks
        s.lock.unlock()
        for hook in hooks { hook(cpu) }
        release(cpu)
    }

    /// Run `hook` with the number of every thread that exits from now on, before the number is free for another
    /// thread: the layers that keep something per CPU give it back there. Kernel: `cpuhp_setup_state_nocalls`
    /// with a dead callback (`iova_cpuhp_dead`).
    public static func addDeadHook(_ hook: @escaping @Sendable (Int) -> Void) {
        let s = state
        s.lock.lock()
        s.deadHooks.append(hook)
        s.lock.unlock()
    }

    /// Kernel: `num_online_cpus()`: the depot trim keeps at most this many full magazines per size class.
    public static var onlineCPUs: Int {
        get {
            let s = state
            s.lock.lock()
            defer { s.lock.unlock() }
            return s.online
        }
        set {
            let s = state
            s.lock.lock()
            s.online = newValue
            s.lock.unlock()
        }
    }
}
