// Storage for the allocator: each live allocation is one 32-byte C `struct iova` at a stable address, named inside
// the allocator by a 27-bit index, and the index of all allocations (`GapTree`) lives in the private bytes of those
// same slots, so that the allocator needs no memory beyond them.
import CKernel
import CSwiommuGlue
import Glibc

/// What a slot's `struct iova` holds. Kept in byte 15 of the slot (`node.state`), which the fast path writes without
/// the tree's lock; nothing else ever stores to that byte.
@usableFromInline enum NodeState {
    static let free: UInt8 = 0        // on the pool's free list (or never used)
    static let allocated: UInt8 = 1   // alloc_iova, alloc_iova_fast, reserve_iova: the caller owns it
    static let cached: UInt8 = 2      // freed by free_iova_fast into an rcache; still in the tree
    static let anchor: UInt8 = 3      // the anchor at IOVA_ANCHOR, never in the tree
}

/// A pool of 32-byte slots in one reservation of address space that never moves: slot i is at base + 32 i, pages
/// are backed by the kernel as they are first touched, and a pointer converts to its index with a subtraction.
///
/// A slot has two tenants. Bytes 16-31 (`pfn_hi`, `pfn_lo`) and byte 15 (`node.state`) are the `struct iova` of
/// the allocation with that index ("handle" i), if any. Bytes 0-14 are cell i of the index: `GapTree`'s nodes are
/// runs of `cellsPerNode` cells (index node k is cells 8k ..< 8k + 8), allocated independently of the handles.
/// The tree needs fewer cells than there are live allocations (see `GapTree`), so the memory used follows the
/// largest number of allocations ever live: 32 bytes each. Handle index 0 is "none", 1 the anchor; index node 0
/// is never used (its cells 0-7 stay zero). Kernel: the `iova_cache` kmem cache (`alloc_iova_mem`,
/// `free_iova_mem`), and the memory of the rbtree's nodes, which is inside `struct iova` there too.
struct NodePool {
    static let none: UInt32 = 0
    static let anchor: UInt32 = 1
    /// Handle indices fit in 27 bits (134 million allocations per domain): a tree entry holds one.
    static let maxIndex: UInt32 = 0x07ff_ffff
    /// Cells per index node, and the largest index node number (24 bits in a tree link).
    static let cellsPerNode = 8
    static let maxIndexNode: UInt32 = 0x00ff_ffff
    /// Slots past this many are backed by transparent huge pages where the kernel offers them (fewer TLB misses
    /// in large trees; small domains keep 4 KiB pages).
    static let hugePageFrom = 1 << 16
    static let stride = MemoryLayout<iova>.stride
    /// Where `node.state` sits in a slot (byte 15).
    @inline(__always) static var stateOffset: Int { swiommu_glue_iova_state_offset() }

    let base: UnsafeMutablePointer<iova>
    let raw: UnsafeMutableRawPointer
    let mappingBytes: Int
    /// Slots available in the reservation, and index nodes (numbers 1 ..< this).
    let capacity: UInt32
    let indexNodeCapacity: UInt32
    /// The handles (free ones threaded through `pfn_lo`) and the index nodes (free ones threaded through cell 0).
    var handles: Numbers
    var indexNodes: Numbers

    /// Handles given out and not freed (the anchor excluded); the next never-used handle index.
    var live: Int { handles.live }
    var nextFresh: UInt32 { handles.nextFresh }

    /// Reserve address space for the largest pool the system allows, from 2^27 slots (4 GiB) down; nil when not
    /// even 4096 slots can be had.
    init?() {
        let stride = NodePool.stride
        var slots = Int(NodePool.maxIndex) + 1
        var m: UnsafeMutableRawPointer? = nil
        while slots >= 1 << 12 {
            let r = mmap(nil, slots * stride, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
            if let r, r != MAP_FAILED {
                m = r
                break
            }
            slots >>= 2
        }
        guard let m else { return nil }
        raw = m
        mappingBytes = slots * stride
        capacity = UInt32(slots)
        indexNodeCapacity = min(NodePool.maxIndexNode + 1, UInt32(slots / NodePool.cellsPerNode))
        handles = Numbers(first: 2, limit: capacity)
        indexNodes = Numbers(first: 1, limit: indexNodeCapacity)
        base = m.bindMemory(to: iova.self, capacity: slots)
        if slots > NodePool.hugePageFrom {
            _ = madvise(m + NodePool.hugePageFrom * stride, (slots - NodePool.hugePageFrom) * stride, MADV_HUGEPAGE)
        }
        let a = node(NodePool.anchor)
        a.pointee.pfn_lo = ~0
        a.pointee.pfn_hi = ~0
        a.pointee.node.state = NodeState.anchor
    }

    // MARK: Handles

    /// The `struct iova` at index `i` (a valid, allocated-once index).
    @inline(__always) func node(_ i: UInt32) -> UnsafeMutablePointer<iova> { base + Int(truncatingIfNeeded: i) }

    /// The node at index `i`, for a reader that does not hold the lock and may have read `i` from a node being
    /// rewritten: nil when `i` is outside the reservation (inside it, every slot can be read).
    @inline(__always) func checkedNode(_ i: UInt32) -> UnsafeMutablePointer<iova>? {
        i < capacity ? base + Int(truncatingIfNeeded: i) : nil
    }

    /// A handle in state `free` (the caller sets its range and state), or nil when the reservation is full. Its
    /// bytes 0-14 belong to the tree and are left alone.
    @inline(__always) mutating func allocate() -> UInt32? {
        let b = base
        return handles.take { UInt32(truncatingIfNeeded: b[Int($0)].pfn_lo) }
    }

    mutating func release(_ i: UInt32) {
        let b = base
        b[Int(i)].node.state = NodeState.free
        handles.give(i) { b[Int($0)].pfn_lo = CUnsignedLong($1) }
    }

    /// The index of a pointer to a handle of this pool (allocated or not), or nil.
    @inline(__always) func index(of p: UnsafeRawPointer) -> UInt32? {
        let off = p - UnsafeRawPointer(base)
        let stride = NodePool.stride
        guard off >= 2 * stride, off < Int(nextFresh) * stride, off % stride == 0 else { return nil }
        return UInt32(off / stride)
    }

    // MARK: Index nodes

    /// Cell `c` of index node `n`: 15 bytes the tree owns, then the state byte of the handle in the same slot.
    @inline(__always) func cell(_ n: UInt32, _ c: Int) -> UnsafeMutableRawPointer { NodePool.cell(raw, n, c) }

    @inline(__always) static func cell(_ raw: UnsafeMutableRawPointer, _ n: UInt32,
                                       _ c: Int) -> UnsafeMutableRawPointer {
        raw + (Int(truncatingIfNeeded: n) &* NodePool.cellsPerNode &+ c) &* NodePool.stride
    }

    /// Whether index node `n` can be read (for a reader without the lock, which may have read `n` from a cell
    /// being rewritten): inside the reservation, every node can be.
    @inline(__always) func isIndexNode(_ n: UInt32) -> Bool { n != 0 && n < indexNodeCapacity }

    /// Whether `k` more index nodes can be had without failing.
    @inline(__always) func canAllocateIndexNodes(_ k: Int) -> Bool { indexNodes.available >= k }

    /// An index node whose cells the caller overwrites; nil when the reservation is full.
    mutating func allocateIndexNode() -> UInt32? {
        let r = raw
        return indexNodes.take { UInt32(truncatingIfNeeded: NodePool.cell(r, $0, 0).load(as: UInt64.self)) }
    }

    mutating func releaseIndexNode(_ n: UInt32) {
        let r = raw
        indexNodes.give(n) { NodePool.cell(r, $0, 0).storeBytes(of: UInt64($1), as: UInt64.self) }
    }

    // MARK: Footprint

    /// Slots in use by either tenant at their high-water marks: the memory the allocator's allocations cost.
    var usedSlots: Int { max(Int(handles.nextFresh), Int(indexNodes.nextFresh) * NodePool.cellsPerNode) }

    /// The memory the pool has touched, rounded up to pages.
    var bytes: Int { (usedSlots * NodePool.stride + 4095) & ~4095 }

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
