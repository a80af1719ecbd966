// A mutex for the slow paths: one per allocator, domain or instance, never one per operation.
import Glibc
import CSwiommuGlue

/// A non-recursive mutex over `pthread_mutex_t`. A reference type so that the owner can be a struct.
public final class Lock: @unchecked Sendable {
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>

    public init() {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inlinable public func lock() { pthread_mutex_lock(mutex) }
    @inlinable public func unlock() { pthread_mutex_unlock(mutex) }

    @inlinable public func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

/// A spinlock for the shortest critical sections on hot paths (an IOMMU instance's IOTLB lookup): two
/// atomic operations when uncontended, where a mutex costs a call into the C library each way.
public final class SpinLock: @unchecked Sendable {
    @usableFromInline let word: UnsafeMutablePointer<Int32>

    public init() {
        word = .allocate(capacity: 1)
        word.initialize(to: 0)
    }

    deinit { word.deallocate() }

    @inlinable @inline(__always) public func lock() { swiommu_glue_spin_lock(word) }
    @inlinable @inline(__always) public func unlock() { swiommu_glue_spin_unlock(word) }

    @inlinable @inline(__always) public func withLock<R>(_ body: () throws -> R) rethrows -> R {
        swiommu_glue_spin_lock(word)
        defer { swiommu_glue_spin_unlock(word) }
        return try body()
    }
}

/// A recursive mutex, for the driver model: a probe may register devices or drivers, which probe again.
public final class RecursiveLock: @unchecked Sendable {
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>

    public init() {
        mutex = .allocate(capacity: 1)
        var attr = pthread_mutexattr_t()
        pthread_mutexattr_init(&attr)
        pthread_mutexattr_settype(&attr, Int32(PTHREAD_MUTEX_RECURSIVE))
        pthread_mutex_init(mutex, &attr)
        pthread_mutexattr_destroy(&attr)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inlinable public func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}
