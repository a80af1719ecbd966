// The buddy allocator over the RAM banks: naturally aligned blocks of 2^order pages, split on allocation
// and merged with their buddies on free. Kernel: mm/page_alloc.c (__rmqueue_smallest, expand,
// __free_one_page), with ZONE_NORMAL (RAM above 4 GiB) tried before ZONE_DMA32.
import CKernel
import SwiommuBase

/// Who owns a live block: recorded in the head page, checked on free, used by the leak report.
public enum PageOwner: UInt32, Sendable {
    case pages = 0, slab = 1, kmallocLarge = 2, vmalloc = 3
    /// Reserved at boot outside the page allocator's users (memblock's place): never reported as a leak.
    case memblock = 4

    var name: String {
        switch self {
        case .pages: "alloc_pages"
        case .slab: "slab"
        case .kmallocLarge: "kmalloc_large"
        case .vmalloc: "vmalloc"
        case .memblock: "memblock"
        }
    }
}

/// The state of a page frame, in `page.swiommu.state`: the low byte says free or allocated head,
/// the next byte the owner; bit 24 marks a page the CPU maps uncached (any page of a block).
enum PageState {
    static let none: UInt32 = 0
    static let freeHead: UInt32 = 1
    static let allocatedHead: UInt32 = 2
    static let uncached: UInt32 = 1 << 24

    @inline(__always) static func kind(_ s: UInt32) -> UInt32 { s & 0xff }
    @inline(__always) static func owner(_ s: UInt32) -> PageOwner { PageOwner(rawValue: (s >> 8) & 0xff) ?? .pages }
    @inline(__always) static func allocated(by owner: PageOwner) -> UInt32 { allocatedHead | owner.rawValue << 8 }
}

/// Why a free was refused.
enum PageFreeError: Error {
    case notAllocated(state: UInt32)
    case wrongOrder(actual: Int)
    case wrongOwner(PageOwner)
}

/// Free lists per bank and order, threaded through `page.swiommu.node`; live blocks on one list.
struct BuddyAllocator {
    let memory: PhysicalMemory
    let maxOrder: Int
    private let freeLists: UnsafeMutablePointer<list_head>
    /// Every live block's head page, for the leak report.
    let live: UnsafeMutablePointer<list_head>
    private(set) var freePages = 0
    private static let fourGiB: UInt64 = 1 << 32

    init(memory: PhysicalMemory) {
        self.memory = memory
        maxOrder = memory.geometry.maxOrder
        let lists = memory.banks.count * (maxOrder + 1)
        freeLists = .allocate(capacity: lists)
        for i in 0..<lists { listInit(freeLists + i) }
        live = .allocate(capacity: 1)
        listInit(live)
        for b in 0..<memory.banks.count { seed(bank: b) }
    }

    func destroy() {
        freeLists.deallocate()
        live.deallocate()
    }

    private func freeList(bank: Int, order: Int) -> ListNode { freeLists + bank * (maxOrder + 1) + order }

    /// Carve a bank into the largest aligned blocks, lowest addresses first.
    private mutating func seed(bank b: Int) {
        let bank = memory.banks[b]
        var idx = 0
        while idx < bank.pageCount {
            var order = maxOrder
            while order > 0 && (idx & ((1 << order) - 1) != 0 || idx + (1 << order) > bank.pageCount) { order -= 1 }
            let head = bank.pages + idx
            head.pointee.swiommu.order = UInt32(order)
            head.pointee.swiommu.state = PageState.freeHead
            listAddTail(nodeOfPage(head), freeList(bank: b, order: order))
            freePages += 1 << order
            idx += 1 << order
        }
    }

    /// Allocate 2^order pages. `below4G` restricts to banks that end at or below 4 GiB (ZONE_DMA32).
    mutating func allocate(order: Int, below4G: Bool, owner: PageOwner) -> UnsafeMutablePointer<PageFrame>? {
        guard order >= 0 && order <= maxOrder else { return nil }
        // Highest bank first: ZONE_NORMAL before ZONE_DMA32, as the zonelist orders them.
        var b = memory.banks.count - 1
        while b >= 0 {
            defer { b -= 1 }
            if below4G && memory.banks[b].end.rawValue > Self.fourGiB { continue }
            if let p = allocate(order: order, bank: b, owner: owner) { return p }
        }
        return nil
    }

    private mutating func allocate(order: Int, bank b: Int, owner: PageOwner) -> UnsafeMutablePointer<PageFrame>? {
        var current = order
        while current <= maxOrder && listIsEmpty(freeList(bank: b, order: current)) { current += 1 }
        guard current <= maxOrder else { return nil }
        let n = freeList(bank: b, order: current).pointee.next!
        listDelete(n)
        let head = pageOfNode(n)
        // expand(): keep the lower half, give the upper halves back.
        while current > order {
            current -= 1
            let buddy = head + (1 << current)
            buddy.pointee.swiommu.order = UInt32(current)
            buddy.pointee.swiommu.state = PageState.freeHead
            listAdd(nodeOfPage(buddy), after: freeList(bank: b, order: current))
        }
        head.pointee.swiommu.order = UInt32(order)
        head.pointee.swiommu.state = PageState.allocated(by: owner)
        listAddTail(nodeOfPage(head), live)
        freePages -= 1 << order
        return head
    }

    /// Free a block, merging it with free buddies. Refuses (and leaves alone) anything that is not the
    /// head of a live block of this order and owner.
    mutating func free(_ head: UnsafeMutablePointer<PageFrame>, order: Int, owner: PageOwner) throws(PageFreeError) {
        guard let b = memory.bankIndex(containingPage: head) else { throw .notAllocated(state: 0) }
        let state = head.pointee.swiommu.state
        guard PageState.kind(state) == PageState.allocatedHead else { throw .notAllocated(state: state) }
        guard Int(head.pointee.swiommu.order) == order else {
            throw .wrongOrder(actual: Int(head.pointee.swiommu.order))
        }
        guard PageState.owner(state) == owner else { throw .wrongOwner(PageState.owner(state)) }
        listDelete(nodeOfPage(head))
        head.pointee.swiommu.site = nil
        freePages += 1 << order

        let bank = memory.banks[b]
        var idx = head - bank.pages
        var current = order
        head.pointee.swiommu.state = PageState.none
        while current < maxOrder {
            let buddyIdx = idx ^ (1 << current)
            guard buddyIdx + (1 << current) <= bank.pageCount else { break }
            let buddy = bank.pages + buddyIdx
            guard buddy.pointee.swiommu.state == PageState.freeHead,
                  Int(buddy.pointee.swiommu.order) == current else { break }
            listDelete(nodeOfPage(buddy))
            buddy.pointee.swiommu.state = PageState.none
            idx = min(idx, buddyIdx)
            current += 1
        }
        let merged = bank.pages + idx
        merged.pointee.swiommu.order = UInt32(current)
        merged.pointee.swiommu.state = PageState.freeHead
        listAdd(nodeOfPage(merged), after: freeList(bank: b, order: current))
    }

    /// Visit every live block's head page.
    func forEachLive(_ body: (UnsafeMutablePointer<PageFrame>) -> Void) {
        var n = live.pointee.next!
        while n != live {
            let next = n.pointee.next!
            body(pageOfNode(n))
            n = next
        }
    }
}
