// The device tree's C API: linux/of.h, of_device.h, of_platform.h.
import Glibc
import CKernel
import SwiommuBase
import SwiommuPlatform

@c(of_find_node_by_path)
public func abiOfFindNodeByPath(_ path: UnsafePointer<CChar>?) -> UnsafeMutablePointer<device_node>? {
    guard let path, let m = Machine.current else { return nil }
    return m.tree.node(atPath: String(cString: path))
}

@c(of_get_parent)
public func abiOfGetParent(_ node: UnsafePointer<device_node>?) -> UnsafeMutablePointer<device_node>? {
    node?.pointee.parent
}

@c(of_get_next_child)
public func abiOfGetNextChild(_ node: UnsafePointer<device_node>?,
                              _ prev: UnsafeMutablePointer<device_node>?) -> UnsafeMutablePointer<device_node>? {
    guard let node else { return nil }
    return prev == nil ? node.pointee.child : prev!.pointee.sibling
}

@c(of_find_compatible_node)
public func abiOfFindCompatibleNode(_ from: UnsafeMutablePointer<device_node>?, _ type: UnsafePointer<CChar>?,
                                    _ compat: UnsafePointer<CChar>?) -> UnsafeMutablePointer<device_node>? {
    guard let compat, let m = Machine.current else { return nil }
    let nodes = m.tree.nodes
    var start = 0
    if let from, let i = nodes.firstIndex(of: from) { start = i + 1 }
    let c = String(cString: compat), t = type.map { String(cString: $0) } ?? ""
    return nodes[start...].first { OFMatch.score($0, compatible: c, type: t, name: "") > 0 }
}

@c(of_find_property)
public func abiOfFindProperty(_ np: UnsafePointer<device_node>?, _ name: UnsafePointer<CChar>?,
                              _ lenp: UnsafeMutablePointer<CInt>?) -> UnsafeMutablePointer<property>? {
    guard let np, let name else { return nil }
    var p = np.pointee.properties
    while let q = p {
        if strcmp(q.pointee.name, name) == 0 {
            lenp?.pointee = q.pointee.length
            return q
        }
        p = q.pointee.next
    }
    return nil
}

@c(of_get_property)
public func abiOfGetProperty(_ np: UnsafePointer<device_node>?, _ name: UnsafePointer<CChar>?,
                             _ lenp: UnsafeMutablePointer<CInt>?) -> UnsafeRawPointer? {
    abiOfFindProperty(np, name, lenp).flatMap { UnsafeRawPointer($0.pointee.value) }
}

/// The property's value if it has at least `bytes` bytes; the kernel's errno otherwise.
private func propertyValue(_ np: UnsafePointer<device_node>?, _ name: UnsafePointer<CChar>?,
                           bytes: Int) -> Result<UnsafeRawPointer, Errno> {
    guard let prop = abiOfFindProperty(np, name, nil) else { return .failure(.invalid) }
    guard let v = prop.pointee.value else { return .failure(.noData) }
    guard Int(prop.pointee.length) >= bytes else { return .failure(.overflow) }
    return .success(UnsafeRawPointer(v))
}

private func bigEndianCell(_ p: UnsafeRawPointer, _ i: Int) -> UInt32 {
    UInt32(bigEndian: p.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))
}

@c(of_property_read_u32_index)
public func abiOfPropertyReadU32Index(_ np: UnsafePointer<device_node>?, _ name: UnsafePointer<CChar>?,
                                      _ index: u32, _ out: UnsafeMutablePointer<u32>?) -> CInt {
    switch propertyValue(np, name, bytes: (Int(index) + 1) * 4) {
    case .failure(let e): return e.negated
    case .success(let v):
        out?.pointee = bigEndianCell(v, Int(index))
        return 0
    }
}

@c(of_property_read_u32_array)
public func abiOfPropertyReadU32Array(_ np: UnsafePointer<device_node>?, _ name: UnsafePointer<CChar>?,
                                      _ out: UnsafeMutablePointer<u32>?, _ sz: size_t) -> CInt {
    switch propertyValue(np, name, bytes: sz * 4) {
    case .failure(let e): return e.negated
    case .success(let v):
        if let out { for i in 0..<sz { out[i] = bigEndianCell(v, i) } }
        return 0
    }
}

@c(of_property_read_u64)
public func abiOfPropertyReadU64(_ np: UnsafePointer<device_node>?, _ name: UnsafePointer<CChar>?,
                                 _ out: UnsafeMutablePointer<u64>?) -> CInt {
    switch propertyValue(np, name, bytes: 8) {
    case .failure(let e): return e.negated
    case .success(let v):
        out?.pointee = UInt64(bigEndianCell(v, 0)) << 32 | UInt64(bigEndianCell(v, 1))
        return 0
    }
}

@c(of_property_read_string)
public func abiOfPropertyReadString(_ np: UnsafePointer<device_node>?, _ name: UnsafePointer<CChar>?,
                                    _ out: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> CInt {
    guard let prop = abiOfFindProperty(np, name, nil) else { return Errno.invalid.negated }
    guard let v = prop.pointee.value, prop.pointee.length > 0 else { return Errno.noData.negated }
    let bytes = v.assumingMemoryBound(to: CChar.self)
    guard strnlen(bytes, Int(prop.pointee.length)) < Int(prop.pointee.length) else {
        return Errno.illegalSequence.negated
    }
    out?.pointee = UnsafePointer(bytes)
    return 0
}

@c(of_device_is_compatible)
public func abiOfDeviceIsCompatible(_ np: UnsafePointer<device_node>?, _ compat: UnsafePointer<CChar>?) -> CInt {
    guard let np, let compat else { return 0 }
    return OFMatch.score(np, compatible: String(cString: compat), type: "", name: "")
}

@c(of_device_is_available)
public func abiOfDeviceIsAvailable(_ np: UnsafePointer<device_node>?) -> Bool {
    guard let np else { return false }
    return DeviceTree.isAvailable(np)
}

@c(of_match_node)
public func abiOfMatchNode(_ matches: UnsafePointer<of_device_id>?,
                           _ node: UnsafePointer<device_node>?) -> UnsafePointer<of_device_id>? {
    guard let matches, let node else { return nil }
    return OFMatch.bestMatch(matches, node)
}

@c(of_match_device)
public func abiOfMatchDevice(_ matches: UnsafePointer<of_device_id>?,
                             _ dev: UnsafePointer<device>?) -> UnsafePointer<of_device_id>? {
    guard let dev, let np = dev.pointee.of_node else { return nil }
    return abiOfMatchNode(matches, np)
}

@c(of_device_get_match_data)
public func abiOfDeviceGetMatchData(_ dev: UnsafePointer<device>?) -> UnsafeRawPointer? {
    guard let dev, let drv = dev.pointee.driver, let table = drv.pointee.of_match_table else { return nil }
    return abiOfMatchDevice(table, dev)?.pointee.data
}

@c(of_find_device_by_node)
public func abiOfFindDeviceByNode(_ np: UnsafeMutablePointer<device_node>?) -> UnsafeMutablePointer<platform_device>? {
    guard let np, let m = Machine.current else { return nil }
    guard let pdev = m.drivers.devices.first(where: { $0.pointee.dev.of_node == np }) else { return nil }
    m.drivers.getDevice(pdev.device)
    return pdev
}
