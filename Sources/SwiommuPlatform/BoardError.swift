// Why a board cannot be loaded: the file, the node and the property, as swiommu_init() reports it.
import SwiommuBase

public struct BoardError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var node: String?
    public var property: String?
    public var reason: String

    public init(file: String, node: String? = nil, property: String? = nil, _ reason: String) {
        self.file = file
        self.node = node
        self.property = property
        self.reason = reason
    }

    /// "board.dtb: /soc/isp@fe0a0000: iommus: phandle 0x9 does not exist".
    public var description: String {
        [file, node, property, reason].compactMap { $0 }.joined(separator: ": ")
    }

    /// Board errors are -EINVAL at the C boundary.
    public var errno: Errno { .invalid }
}
