// Matching device tree nodes against driver tables. Kernel: drivers/of/base.c (__of_device_is_compatible,
// __of_match_node).
import Glibc
import CKernel

public enum OFMatch {
    /// The string in a fixed-size C char array.
    static func string<T>(_ tuple: T) -> String {
        withUnsafeBytes(of: tuple) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    /// Kernel: __of_device_is_compatible. Compatible outweighs type, type outweighs name; 0 is no match.
    public static func score(_ node: UnsafePointer<DeviceNode>, compatible: String, type: String, name: String) -> Int32 {
        var score: Int32 = 0
        if !compatible.isEmpty {
            score = DeviceTree.compatibilityScore(node, compatible)
            if score == 0 { return 0 }
        }
        if !type.isEmpty {
            guard DeviceTree.strings(node, "device_type").first == type else { return 0 }
            score += 2
        }
        if !name.isEmpty {
            guard String(cString: node.pointee.name) == name else { return 0 }
            score += 1
        }
        return score
    }

    /// Kernel: __of_match_node. The entry with the best score; a table ends with an empty entry.
    public static func bestMatch(_ table: UnsafePointer<of_device_id>, _ node: UnsafePointer<DeviceNode>) -> UnsafePointer<of_device_id>? {
        var best: UnsafePointer<of_device_id>?
        var bestScore: Int32 = 0
        var e = table
        while e.pointee.name.0 != 0 || e.pointee.type.0 != 0 || e.pointee.compatible.0 != 0 {
            let s = score(node, compatible: string(e.pointee.compatible), type: string(e.pointee.type),
                          name: string(e.pointee.name))
            if s > bestScore {
                best = e
                bestScore = s
            }
            e += 1
        }
        return best
    }
}
