// Reading a flattened device tree (a .dtb) into the live tree with libfdt, checking the blob first.
// Kernel: drivers/of/fdt.c (unflatten_device_tree).
import Glibc
import CLibFDT
import SwiommuBase

enum FlattenedTree {
    /// The live tree of a blob. Throws for a bad magic number, a truncated or malformed blob.
    static func parse(_ blob: UnsafeRawBufferPointer, file: String) throws(BoardError) -> DeviceTree {
        guard blob.count >= 40, let base = blob.baseAddress else {
            throw BoardError(file: file, "truncated: \(blob.count) bytes is less than a device tree header")
        }
        let magic = swiommu_fdt_magic(base)
        guard magic == 0xd00d_feed else {
            throw BoardError(file: file, "not a flattened device tree (bad magic \(Kernel.hex(magic)), expected 0xd00dfeed)")
        }
        let total = Int(swiommu_fdt_totalsize(base))
        guard total <= blob.count else {
            throw BoardError(file: file, "truncated: the header says \(total) bytes, the file has \(blob.count)")
        }
        let check = fdt_check_full(base, blob.count)
        guard check == 0 else {
            throw BoardError(file: file, "malformed device tree: \(String(cString: fdt_strerror(check)))")
        }
        let tree = DeviceTree()
        try addNode(blob: base, size: total, offset: 0, into: tree, node: tree.root, file: file)
        return tree
    }

    private static func addNode(blob: UnsafeRawPointer, size: Int, offset: Int32, into tree: DeviceTree,
                                node: UnsafeMutablePointer<DeviceNode>, file: String) throws(BoardError) {
        var prop = fdt_first_property_offset(blob, offset)
        while prop >= 0 {
            var nameOffset: UnsafePointer<CChar>?
            var len: Int32 = 0
            guard let value = fdt_getprop_by_offset(blob, prop, &nameOffset, &len), let name = nameOffset else {
                throw BoardError(file: file, node: DeviceTree.path(of: node), "unreadable property")
            }
            // libfdt 1.6's fdt_check_full() lets a length that wraps the structure offset around pass.
            let start = UnsafeRawPointer(value) - blob
            guard len >= 0, start >= 0, start + Int(len) <= size else {
                throw BoardError(file: file, node: DeviceTree.path(of: node), property: String(cString: name),
                                 "malformed device tree: length \(UInt32(bitPattern: len)) runs past the blob")
            }
            let bytes = UnsafeRawBufferPointer(start: value, count: Int(len))
            tree.setProperty(node, String(cString: name), bytes: Array(bytes))
            prop = fdt_next_property_offset(blob, prop)
        }
        var child = fdt_first_subnode(blob, offset)
        while child >= 0 {
            let name = String(cString: fdt_get_name(blob, child, nil))
            let n = tree.addNode(name, parent: node)
            try addNode(blob: blob, size: size, offset: child, into: tree, node: n, file: file)
            child = fdt_next_subnode(blob, child)
        }
    }
}
