// The kernel's list_head operations on C list heads, for lists threaded through struct page.
import CKernel
import CSwiommuGlue

@usableFromInline typealias ListNode = UnsafeMutablePointer<list_head>

/// INIT_LIST_HEAD.
@inlinable @inline(__always) public func listInit(_ h: UnsafeMutablePointer<list_head>) {
    h.pointee.next = h
    h.pointee.prev = h
}

@inline(__always) func listIsEmpty(_ h: ListNode) -> Bool { h.pointee.next == h }

@inline(__always) func listAdd(_ n: ListNode, after h: ListNode) {
    let next = h.pointee.next!
    n.pointee.next = next
    n.pointee.prev = h
    next.pointee.prev = n
    h.pointee.next = n
}

/// list_add_tail.
@inlinable @inline(__always) public func listAddTail(_ n: UnsafeMutablePointer<list_head>, _ h: UnsafeMutablePointer<list_head>) {
    let prev = h.pointee.prev!
    n.pointee.next = h
    n.pointee.prev = prev
    prev.pointee.next = n
    h.pointee.prev = n
}

@inline(__always) func listDelete(_ n: ListNode) {
    let next = n.pointee.next!, prev = n.pointee.prev!
    next.pointee.prev = prev
    prev.pointee.next = next
    n.pointee.next = nil
    n.pointee.prev = nil
}

/// Offset of `swiommu.node` in struct page, to get from a list node back to its page.
let pageNodeOffset = swiommu_glue_page_node_offset()

@inline(__always) func pageOfNode(_ n: ListNode) -> UnsafeMutablePointer<PageFrame> {
    (UnsafeMutableRawPointer(n) - pageNodeOffset).assumingMemoryBound(to: PageFrame.self)
}

@inline(__always) func nodeOfPage(_ p: UnsafeMutablePointer<PageFrame>) -> ListNode {
    (UnsafeMutableRawPointer(p) + pageNodeOffset).assumingMemoryBound(to: list_head.self)
}

/// The kernel's `struct page`, under a name that does not collide with Swift methods called `page`.
public typealias PageFrame = CKernel.page
