// The C face of a domain: `struct iova_domain` is embedded by its users (dma-iommu's cookie), so its layout is
// fixed and the Swift domain hangs off its `swiommu` field, checked with a magic word before use.
import CKernel
import SwiommuBase

/// Binding between a C `struct iova_domain` and its `IOVADomain`. Kernel: the struct's own fields.
public enum CIOVADomain {
    @usableFromInline static let magic: UInt = 0x494f_5641_2d53_574d   // "IOVA-SWM"

    /// Kernel: `init_iova_domain` on the caller's struct. A granule the kernel would BUG on leaves the struct
    /// unusable (WARN); every later call on it WARNs.
    public static func initialise(_ c: UnsafeMutablePointer<iova_domain>, granule: UInt64, startPfn: UInt64,
                                  pageSize: UInt64, allowLargeGranule: Bool) {
        c.pointee = iova_domain()
        c.pointee.granule = CUnsignedLong(granule)
        c.pointee.start_pfn = CUnsignedLong(startPfn)
        c.pointee.anchor.pfn_lo = ~0
        c.pointee.anchor.pfn_hi = ~0
        guard let d = IOVADomain(granule: granule, startPfn: IOVAPFN(startPfn), pageSize: pageSize,
                                 allowLargeGranule: allowLargeGranule) else { return }
        c.pointee.dma_32bit_pfn = CUnsignedLong(d.dma32Pfn)
        c.pointee.max32_alloc_size = CUnsignedLong(d.max32AllocSize)
        d.max32Field = (UnsafeMutableRawPointer(c) + MemoryLayout<iova_domain>.offset(of: \.max32_alloc_size)!)
            .assumingMemoryBound(to: Int.self)
        let raw = Unmanaged.passRetained(d).toOpaque()
        c.pointee.swiommu = OpaquePointer(raw)
        c.pointee.swiommu_magic = UInt(bitPattern: raw) ^ magic
    }

    /// The domain of an initialised struct, or nil.
    @inlinable @inline(__always) static func unmanaged(_ c: UnsafeMutablePointer<iova_domain>?) -> Unmanaged<IOVADomain>? {
        guard let c, let op = c.pointee.swiommu, c.pointee.swiommu_magic == UInt(bitPattern: op) ^ magic else {
            return nil
        }
        return Unmanaged.fromOpaque(UnsafeRawPointer(op))
    }

    /// Run `body` with the domain, without reference counting, then refresh the struct's `max32_alloc_size`
    /// (`publishMax32AllocSize`);
    /// `fallback` and a WARN for NULL or a struct that is not an initialised domain.
    @inlinable @inline(__always) public static func with<R>(_ c: UnsafeMutablePointer<iova_domain>?, _ caller: StaticString,
                                                  _ fallback: R, _ body: (IOVADomain) -> R) -> R {
        guard let c, let u = unmanaged(c) else {
            notInitialised(caller, c)
            return fallback
        }
        return u._withUnsafeGuaranteedRef { d in
            let r = body(d)
            d.publishMax32AllocSize()
            return r
        }
    }

    @usableFromInline @inline(never) static func notInitialised(_ caller: StaticString, _ c: UnsafeMutablePointer<iova_domain>?) {
        if let c {
            Kernel.warn("\(caller): iova_domain \(Kernel.hex(UInt(bitPattern: c))) is not initialised "
                        + "(init_iova_domain() not called or refused, or put_iova_domain() called)")
        } else {
            Kernel.warn("\(caller): NULL iova_domain")
        }
    }

    /// Kernel: `iova_domain_init_rcaches`; publishes a non-NULL `rcaches`.
    public static func initRangeCaches(_ c: UnsafeMutablePointer<iova_domain>?) -> Errno? {
        with(c, "iova_domain_init_rcaches", Errno.invalid) { d -> Errno? in
            if let e = d.initRangeCaches() { return e }
            c?.pointee.rcaches = OpaquePointer(d.rangeCache.depots)
            return nil
        }
    }

    /// Kernel: `put_iova_domain`. The struct is left uninitialised.
    public static func put(_ c: UnsafeMutablePointer<iova_domain>?) {
        guard let c, let u = unmanaged(c) else {
            notInitialised("put_iova_domain", c)
            return
        }
        u._withUnsafeGuaranteedRef { $0.destroy() }
        c.pointee.swiommu = nil
        c.pointee.swiommu_magic = 0
        c.pointee.rcaches = nil
        u.release()
    }
}

/// The users of the allocator's caches. Kernel: `iova_cache_get`/`iova_cache_put` and `iova_cache_users`.
public enum IOVACacheUsers {
    final class State: @unchecked Sendable {
        let lock = Lock()
        var users = 0
    }

    static let state = State()

    /// Kernel: `iova_cache_get`. Always succeeds: swiommu's node pools are per domain.
    public static func get() {
        state.lock.withLock { state.users += 1 }
    }

    /// Kernel: `iova_cache_put`; one without a get is a WARN, as there.
    public static func put() {
        let underflow = state.lock.withLock { () -> Bool in
            guard state.users > 0 else { return true }
            state.users -= 1
            return false
        }
        if underflow { Kernel.warn("iova_cache_put: no iova_cache_get() to balance it") }
    }

    public static var users: Int { state.lock.withLock { state.users } }
}
