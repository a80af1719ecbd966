// swiommu's machine options from /chosen: the default-domain policy, strict or lazy invalidation,
// passthrough, the swiotlb size, and an assertion on the CPU page size.
import SwiommuBase

/// How default domains are shared. Kernel: one per group; the others are swiommu extensions.
public enum DefaultDomainPolicy: String, Sendable, CaseIterable {
    case perGroup = "per-group", perInstance = "per-instance", global
}

public struct BoardOptions: Sendable, Equatable {
    /// "swiommu,iommu-policy" = "per-group" | "per-instance" | "global".
    public var policy: DefaultDomainPolicy = .perGroup
    /// iommu.strict= on the command line, or "swiommu,iommu-strict" = <0|1>. The kernel's default on
    /// arm64 is strict.
    public var strict = true
    /// iommu.passthrough= or "swiommu,iommu-passthrough" = <0|1>.
    public var passthrough = false
    /// swiotlb= (in 2 KiB slabs) or "swiommu,swiotlb-size" = <bytes>. Default 64 MiB.
    public var swiotlbBytes = 64 << 20
    /// "swiommu,page-shift" = <12|14|16>: the board only boots on a CPU with this page size.
    public var pageShift: Int?
    /// The kernel command line, as given.
    public var bootargs = ""
    /// "swiommu,dart-upstream": DARTs behave as upstream's driver on a CPU with smaller pages (identity
    /// default domains, locked DARTs refused) instead of swiommu's extension.
    public var upstreamDART = false

    public init() {}

    /// Read /chosen. Throws for values out of range.
    static func parse(_ tree: DeviceTree, file: String) throws(BoardError) -> BoardOptions {
        var o = BoardOptions()
        guard let chosen = tree.node(atPath: "/chosen") else { return o }
        let path = "/chosen"
        o.bootargs = DeviceTree.strings(chosen, "bootargs").first ?? ""
        for arg in o.bootargs.split(separator: " ") {
            let kv = arg.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { continue }
            switch kv[0] {
            case "iommu.strict": o.strict = kv[1] != "0"
            case "iommu.passthrough": o.passthrough = kv[1] != "0" && kv[1] != "n"
            case "swiotlb":
                if let slabs = Int(kv[1].split(separator: ",").first ?? "") { o.swiotlbBytes = slabs * 2048 }
            default: break
            }
        }
        if let p = DeviceTree.strings(chosen, "swiommu,iommu-policy").first {
            guard let policy = DefaultDomainPolicy(rawValue: p) else {
                throw BoardError(file: file, node: path, property: "swiommu,iommu-policy",
                                 "'\(p)' is not per-group, per-instance or global")
            }
            o.policy = policy
        }
        o.upstreamDART = DeviceTree.property(chosen, "swiommu,dart-upstream") != nil
        if let v = DeviceTree.cells(chosen, "swiommu,iommu-strict")?.first { o.strict = v != 0 }
        if let v = DeviceTree.cells(chosen, "swiommu,iommu-passthrough")?.first { o.passthrough = v != 0 }
        if let v = DeviceTree.cells(chosen, "swiommu,swiotlb-size") {
            let bytes = v.reduce(UInt64(0)) { $0 << 32 | UInt64($1) }
            guard bytes >= 1 << 20, bytes <= 1 << 32 else {
                throw BoardError(file: file, node: path, property: "swiommu,swiotlb-size",
                                 "\(bytes) bytes is outside 1 MiB ... 4 GiB")
            }
            o.swiotlbBytes = Int(bytes)
        }
        if let v = DeviceTree.cells(chosen, "swiommu,page-shift")?.first {
            guard PageGeometry(shift: Int(v)) != nil else {
                throw BoardError(file: file, node: path, property: "swiommu,page-shift", "\(v) is not 12, 14 or 16")
            }
            o.pageShift = Int(v)
        }
        return o
    }
}
