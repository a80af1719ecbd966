// The live device tree: C `struct device_node` and `struct property` records in host memory, built by
// code (the built-in board) or, later, from a flattened blob. Kernel: drivers/of/base.c, fdt.c.
import Glibc
import CKernel
import SwiommuBase

/// The kernel's `struct device_node`, named for Swift.
public typealias DeviceNode = CKernel.device_node

public final class DeviceTree: @unchecked Sendable {
    /// The root node "/".
    public let root: UnsafeMutablePointer<DeviceNode>
    /// Every node, in the order it was added (parents before children).
    public private(set) var nodes: [UnsafeMutablePointer<DeviceNode>] = []
    private var blocks: [UnsafeMutableRawPointer] = []
    private var nextPhandle: UInt32 = 1
    /// Nodes by phandle (filled as "phandle" properties are set).
    private var byPhandle: [UInt32: UnsafeMutablePointer<DeviceNode>] = [:]

    public init() {
        root = UnsafeMutablePointer<DeviceNode>.allocate(capacity: 1)
        root.initialize(to: DeviceNode())
        blocks.append(UnsafeMutableRawPointer(root))
        root.pointee.name = UnsafePointer(keep(""))
        root.pointee.full_name = UnsafePointer(keep("/"))
        nodes.append(root)
    }

    deinit {
        for b in blocks { free(b) }
    }

    /// A C string copy that lives as long as the tree.
    private func keep(_ s: String) -> UnsafeMutablePointer<CChar> {
        let p = strdup(s)!
        blocks.append(UnsafeMutableRawPointer(p))
        return p
    }

    /// Add a child node named like "isp@fe0a0000" (unit address optional).
    @discardableResult
    public func addNode(_ fullName: String, parent: UnsafeMutablePointer<DeviceNode>? = nil) -> UnsafeMutablePointer<DeviceNode> {
        let parent = parent ?? root
        let n = UnsafeMutablePointer<DeviceNode>.allocate(capacity: 1)
        n.initialize(to: DeviceNode())
        blocks.append(UnsafeMutableRawPointer(n))
        n.pointee.full_name = UnsafePointer(keep(fullName))
        n.pointee.name = UnsafePointer(keep(String(fullName.split(separator: "@", maxSplits: 1).first ?? "")))
        n.pointee.parent = parent
        // Append as the last child, keeping source order.
        if var c = parent.pointee.child {
            while let s = c.pointee.sibling { c = s }
            c.pointee.sibling = n
        } else {
            parent.pointee.child = n
        }
        nodes.append(n)
        return n
    }

    /// Set a property to raw (big-endian) bytes, replacing an earlier value. "phandle" (and the older
    /// "linux,phandle") also set the node's phandle.
    public func setProperty(_ node: UnsafeMutablePointer<DeviceNode>, _ name: String, bytes: [UInt8]) {
        if (name == "phandle" || name == "linux,phandle") && bytes.count == 4 {
            let ph = bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            node.pointee.phandle = ph
            byPhandle[ph] = node
            nextPhandle = max(nextPhandle, ph &+ 1)
        }
        let value = malloc(max(bytes.count, 1))!
        blocks.append(value)
        bytes.withUnsafeBytes { if let b = $0.baseAddress { memcpy(value, b, bytes.count) } }
        var p = node.pointee.properties
        while let q = p {
            if String(cString: q.pointee.name) == name {
                q.pointee.value = value
                q.pointee.length = Int32(bytes.count)
                return
            }
            p = q.pointee.next
        }
        let prop = UnsafeMutablePointer<CKernel.property>.allocate(capacity: 1)
        blocks.append(UnsafeMutableRawPointer(prop))
        prop.initialize(to: CKernel.property(name: keep(name), length: Int32(bytes.count), value: value, next: nil))
        // Append, keeping source order.
        if var last = node.pointee.properties {
            while let n = last.pointee.next { last = n }
            last.pointee.next = prop
        } else {
            node.pointee.properties = prop
        }
    }

    /// A property of 32-bit cells, stored big-endian as in a blob.
    public func setCells(_ node: UnsafeMutablePointer<DeviceNode>, _ name: String, _ cells: [UInt32]) {
        setProperty(node, name, bytes: cells.flatMap { c in (0..<4).map { UInt8(truncatingIfNeeded: c >> (24 - 8 * $0)) } })
    }

    /// A string list property ("a\0b\0").
    public func setStrings(_ node: UnsafeMutablePointer<DeviceNode>, _ name: String, _ strings: [String]) {
        setProperty(node, name, bytes: strings.flatMap { Array($0.utf8) + [0] })
    }

    /// An empty (boolean) property.
    public func setFlag(_ node: UnsafeMutablePointer<DeviceNode>, _ name: String) {
        setProperty(node, name, bytes: [])
    }

    /// Give a node a phandle (once) and return it.
    public func phandle(of node: UnsafeMutablePointer<DeviceNode>) -> UInt32 {
        if node.pointee.phandle == 0 { setCells(node, "phandle", [nextPhandle]) }
        return node.pointee.phandle
    }

    /// Kernel: of_find_node_by_phandle.
    public func node(phandle: UInt32) -> UnsafeMutablePointer<DeviceNode>? {
        phandle == 0 ? nil : byPhandle[phandle]
    }

    // MARK: Queries. Kernel: of_find_property, of_find_node_by_path, of_device_is_compatible ...

    /// The bytes of a property, or nil.
    public static func property(_ node: UnsafePointer<DeviceNode>, _ name: String) -> UnsafeMutableBufferPointer<UInt8>? {
        var p = node.pointee.properties
        while let q = p {
            if strcmp(q.pointee.name, name) == 0 {
                return UnsafeMutableBufferPointer(start: q.pointee.value?.assumingMemoryBound(to: UInt8.self),
                                                  count: Int(q.pointee.length))
            }
            p = q.pointee.next
        }
        return nil
    }

    /// The cells of a property, decoded from big-endian.
    public static func cells(_ node: UnsafePointer<DeviceNode>, _ name: String) -> [UInt32]? {
        guard let b = property(node, name) else { return nil }
        var out: [UInt32] = []
        out.reserveCapacity(b.count / 4)
        var i = 0
        while i + 4 <= b.count {
            var v = UInt32(b[i]) << 24
            v |= UInt32(b[i + 1]) << 16
            v |= UInt32(b[i + 2]) << 8
            v |= UInt32(b[i + 3])
            out.append(v)
            i += 4
        }
        return out
    }

    /// The strings of a string-list property.
    public static func strings(_ node: UnsafePointer<DeviceNode>, _ name: String) -> [String] {
        guard let b = property(node, name), b.count > 0 else { return [] }
        return b.split(separator: 0, omittingEmptySubsequences: true).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The full path of a node ("/soc/isp@fe0a0000").
    public static func path(of node: UnsafePointer<DeviceNode>) -> String {
        guard let parent = node.pointee.parent else { return "/" }
        let up = path(of: parent)
        return (up == "/" ? "" : up) + "/" + String(cString: node.pointee.full_name)
    }

    /// Kernel: of_find_node_by_path.
    public func node(atPath path: String) -> UnsafeMutablePointer<DeviceNode>? {
        nodes.first { Self.path(of: $0) == path }
    }

    /// Kernel: of_device_is_compatible (the score: higher for earlier entries, 0 for none).
    public static func compatibilityScore(_ node: UnsafePointer<DeviceNode>, _ compat: String) -> Int32 {
        let list = strings(node, "compatible")
        guard let i = list.firstIndex(where: { $0.lowercased() == compat.lowercased() }) else { return 0 }
        return Int32(Int(Int32.max / 2) - i * 4)
    }

    /// Kernel: of_device_is_available.
    public static func isAvailable(_ node: UnsafePointer<DeviceNode>) -> Bool {
        guard let s = strings(node, "status").first else { return true }
        return s == "okay" || s == "ok"
    }

    /// #address-cells / #size-cells a node's children use (the kernel's defaults: 2 and 1).
    public static func cellCounts(forChildrenOf node: UnsafePointer<DeviceNode>) -> (address: Int, size: Int) {
        (Int(cells(node, "#address-cells")?.first ?? 2), Int(cells(node, "#size-cells")?.first ?? 1))
    }
}
