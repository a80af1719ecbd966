// The fence pair that lets a thread's rcache slot go without a locked instruction on the fast path, while
// another thread can still drain it: the owner's side is a compiler barrier, the drainer's side a membarrier(2)
// that makes every running thread of the process execute a full barrier.
import Glibc
import Synchronization

/// Kernel analogue: the per-CPU rcache lock, which on a kernel is cheap because preemption is off. Here an
/// owner marks its slot busy with a plain store and then reads the slot's drain flag (a Dekker pair); the
/// drainer sets the drain flag, runs `heavy()`, then reads the busy flag. `heavy()` orders the owner's store
/// before its load on every CPU, so one of the two sees the other. Without MEMBARRIER_CMD_PRIVATE_EXPEDITED
/// both sides fall back to full fences.
public enum AsymmetricFence {
    public static let expedited: Bool = {
        // membarrier(2) has no glibc wrapper and syscall(2) is variadic (not callable from Swift): call it
        // through a pointer with a fixed signature (integer arguments go in the same registers either way).
        let command = MembarrierCommand.registerPrivateExpedited
        guard let r = membarrier(command) else { return false }
        return r == 0
    }()

    private enum MembarrierCommand {
        static let query = 0
        static let privateExpedited = 1 << 3
        static let registerPrivateExpedited = 1 << 4
    }

    #if arch(x86_64)
    private static let sysMembarrier = 324
    #elseif arch(arm64)
    private static let sysMembarrier = 283
    #else
    private static let sysMembarrier = -1
    #endif

    private typealias SyscallFunction = @convention(c) (CLong, CLong, CLong, CLong) -> CLong
    private static let syscallFunction: SyscallFunction? = {
        guard sysMembarrier >= 0, let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "syscall") else { return nil }
        return unsafeBitCast(sym, to: SyscallFunction.self)
    }()

    private static func membarrier(_ command: Int) -> CLong? {
        guard let f = syscallFunction else { return nil }
        return f(CLong(sysMembarrier), CLong(command), 0, 0)
    }

    /// The owner's side, between its store to `busy` and its load of `drain`.
    @inlinable @inline(__always) public static func light(expedited: Bool) {
        if expedited {
            atomicMemoryFence(ordering: .acquiringAndReleasing)   // no instruction on x86: orders the compiler
        } else {
            atomicMemoryFence(ordering: .sequentiallyConsistent)
        }
    }

    /// The drainer's side, between its store to `drain` and its load of `busy`.
    public static func heavy() {
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        if expedited { _ = membarrier(MembarrierCommand.privateExpedited) }
    }
}
