// Storage for the allocator: each live allocation is one 16-byte C `struct iova` at a stable address, named inside
// the allocator by an index, with two side entries of its own: its position in the index (`GapArray`) and its
// state.
import CKernel
import CSwiommuGlue
import Glibc

/// What a handle's `struct iova` holds. Kept in the pool's state byte of the handle, which the fast path writes
/// without the domain's lock; nothing else ever stores to that byte meanwhile.
@usableFromInline enum NodeState {
    static let free: UInt8 = 0        // on the pool's free list (or never used)
    static let allocated: UInt8 = 1   // alloc_iova, alloc_iova_fast, reserve_iova: the caller owns it
    static let cached: UInt8 = 2      // freed by free_iova_fast into an rcache; still in the index
    static let anchor: UInt8 = 3      // the anchor at IOVA_ANCHOR, position 0 of the index
}

/// A pool of handles in one reservation of address space that never moves: handle i's `struct iova` is at
/// base + 16 i, its position in the index at `slotOf[i]`, its state at `states[stateIndex(i)]`; pages are backed
/// by the kernel as they are first touched, and a pointer converts to its index with a subtraction. Handle index
/// 0 is "none", 1 the anchor. Kernel: the `iova_cache` kmem cache (`alloc_iova_mem`, `free_iova_mem`).
struct NodePool {
    static let none: UInt32 = 0
    static let anchor: UInt32 = 1
    /// Handle indices fit in 26 bits (67 million allocations per domain).
    static let maxIndex: UInt32 = 0x03ff_ffff
    /// Handles past this many are backed by transparent huge pages where the kernel offers them (fewer TLB misses
    /// in large domains; small domains keep 4 KiB pages).
    static let hugePageFrom = 1 << 16
    static let stride = MemoryLayout<iova>.stride
    /// Bytes per handle: its `struct iova`, its position, its state.
    static let handleBytes = NodePool.stride + 4 + 1
    static let stateLanes = 8

    let base: UnsafeMutablePointer<iova>
    let slotOf: UnsafeMutablePointer<UInt32>
    /// The state bytes, in 8 lanes (handle i in lane i % 8): handles made one after the other, as two threads'
    /// first allocations often are, keep their states in different cache lines, which those threads' fast paths
    /// write without the lock.
    let states: UnsafeMutablePointer<UInt8>
    let laneShift: Int
    let raw: UnsafeMutableRawPointer
    let mappingBytes: Int
    /// Handles available in the reservation.
    let capacity: UInt32
    /// The handles (free ones threaded through `pfn_lo`).
    var handles: Numbers

    /// Handles given out and not freed (the anchor excluded); the next never-used handle index.
    var live: Int { handles.live }
    var nextFresh: UInt32 { handles.nextFresh }

    /// Reserve address space for the largest pool the system allows, from 2^26 handles down; nil when not even
    /// 4096 can be had.
    init?() {
        var slots = Int(NodePool.maxIndex) + 1
        var m: UnsafeMutableRawPointer? = nil
        while slots >= 1 << 12 {
            let r = mmap(nil, slots * NodePool.handleBytes, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
            if let r, r != MAP_FAILED {
                m = r
                break
            }
            slots >>= 2
        }
        guard let m else { return nil }
        raw = m
        mappingBytes = slots * NodePool.handleBytes
        capacity = UInt32(slots)
        handles = Numbers(first: 2, limit: capacity)
        base = m.bindMemory(to: iova.self, capacity: slots)
        slotOf = (m + slots * NodePool.stride).bindMemory(to: UInt32.self, capacity: slots)
        states = (m + slots * (NodePool.stride + 4)).bindMemory(to: UInt8.self, capacity: slots)
        laneShift = (slots / NodePool.stateLanes).trailingZeroBitCount
        if slots > NodePool.hugePageFrom {
            _ = madvise(m + NodePool.hugePageFrom * NodePool.stride, (slots - NodePool.hugePageFrom) * NodePool.stride,
                        MADV_HUGEPAGE)
        }
        let a = node(NodePool.anchor)
        a.pointee.pfn_lo = ~0
        a.pointee.pfn_hi = ~0
        states[NodePool.stateIndex(NodePool.anchor, laneShift)] = NodeState.anchor
    }

    /// Where handle `i`'s state byte is in `states`.
    @inline(__always) static func stateIndex(_ i: UInt32, _ laneShift: Int) -> Int {
        Int(truncatingIfNeeded: i & 7) &<< laneShift | Int(truncatingIfNeeded: i &>> 3)
    }

    // MARK: Handles

    /// The `struct iova` at index `i` (a valid, allocated-once index).
    @inline(__always) func node(_ i: UInt32) -> UnsafeMutablePointer<iova> { base + Int(truncatingIfNeeded: i) }

    /// The node at index `i`, for a reader that does not hold the lock and may have read `i` from an entry being
    /// rewritten: nil when `i` is outside the reservation (inside it, every handle can be read).
    @inline(__always) func checkedNode(_ i: UInt32) -> UnsafeMutablePointer<iova>? {
        i < capacity ? base + Int(truncatingIfNeeded: i) : nil
    }

    /// The state of handle `i`.
    @inline(__always) func state(_ i: UInt32) -> UInt8 { states[NodePool.stateIndex(i, laneShift)] }
    @inline(__always) func setState(_ i: UInt32, _ s: UInt8) { states[NodePool.stateIndex(i, laneShift)] = s }

    /// A handle in state `free` (the caller sets its range and state), or nil when the reservation is full.
    @inline(__always) mutating func allocate() -> UInt32? {
        let b = base
        return handles.take { UInt32(truncatingIfNeeded: b[Int($0)].pfn_lo) }
    }

    mutating func release(_ i: UInt32) {
        let b = base
        setState(i, NodeState.free)
        handles.give(i) { b[Int($0)].pfn_lo = CUnsignedLong($1) }
    }

    /// The index of a pointer to a handle of this pool (allocated or not), or nil.
    @inline(__always) func index(of p: UnsafeRawPointer) -> UInt32? {
        let off = p - UnsafeRawPointer(base)
        let stride = NodePool.stride
        guard off >= 2 * stride, off < Int(nextFresh) * stride, off % stride == 0 else { return nil }
        return UInt32(off / stride)
    }

    // MARK: Footprint

    /// The memory the pool has touched (its arrays up to the high-water mark of the handles), rounded up to pages.
    var bytes: Int {
        let n = Int(handles.nextFresh)
        return ((n * NodePool.stride + 4095) & ~4095) + ((n * 4 + 4095) & ~4095)
            + NodePool.stateLanes * ((n / NodePool.stateLanes + 1 + 4095) & ~4095)
    }

    func destroy() {
        munmap(raw, mappingBytes)
    }
}

/// Numbers 1 ..< `limit` handed out from a free list threaded through the freed ones (the caller says where a
/// number's link is kept), else fresh in ascending order.
struct Numbers {
    /// The first free number (0: none), and how many are free.
    private(set) var freeHead: UInt32 = 0
    private(set) var freeCount = 0
    /// The next never-used number, and the bound.
    private(set) var nextFresh: UInt32
    let limit: UInt32
    /// Numbers given out and not given back.
    private(set) var live = 0

    init(first: UInt32, limit: UInt32) {
        nextFresh = first
        self.limit = limit
    }

    /// Numbers that can still be had.
    @inline(__always) var available: Int { freeCount &+ Int(limit &- nextFresh) }

    /// A number, or nil when none is left; `link` reads a free number's successor on the list.
    @inline(__always) mutating func take(link: (UInt32) -> UInt32) -> UInt32? {
        var i = freeHead
        if i != 0 {
            freeHead = link(i)
            freeCount &-= 1
        } else {
            guard nextFresh < limit else { return nil }
            i = nextFresh
            nextFresh &+= 1
        }
        live &+= 1
        return i
    }

    /// Give number `i` back; `setLink(i, next)` stores its successor on the list.
    @inline(__always) mutating func give(_ i: UInt32, setLink: (UInt32, UInt32) -> Void) {
        setLink(i, freeHead)
        freeHead = i
        freeCount &+= 1
        live &-= 1
    }
}
