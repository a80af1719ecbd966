// A board: the device tree a machine boots from (a .dtb, a .dts compiled with dtc, or the built-in
// default board), checked whole before anything is built, with its RAM layout and /chosen options.
import Glibc
import CSwiommuGlue
import SwiommuBase
import SwiommuMemory

public final class Board: @unchecked Sendable {
    /// The file it came from, or "built-in default board".
    public let source: String
    public let tree: DeviceTree
    public let ram: [RAMBankLayout]
    public let options: BoardOptions

    /// The root's "model", else its first compatible.
    public var model: String {
        DeviceTree.strings(tree.root, "model").first ?? DeviceTree.strings(tree.root, "compatible").first ?? "board"
    }

    private init(source: String, tree: DeviceTree, ram: [RAMBankLayout], options: BoardOptions) {
        self.source = source
        self.tree = tree
        self.ram = ram
        self.options = options
    }

    /// The default board (examples/boards/default.dts), built into the library.
    public static func defaultBoard() throws(BoardError) -> Board {
        try make(bytes: DefaultBoardBlob.bytes, file: DefaultBoardBlob.name)
    }

    /// Load a .dtb, or a .dts through dtc. Throws a BoardError naming the file (and node and property).
    public static func load(path: String) throws(BoardError) -> Board {
        var blobPath = path
        var temporary: String?
        if path.hasSuffix(".dts") {
            guard access(path, R_OK) == 0 else {
                throw BoardError(file: path, "cannot read: \(String(cString: strerror(errno)))")
            }
            var template = Array("/tmp/swiommu-board-XXXXXX.dtb".utf8CString)
            let fd = template.withUnsafeMutableBufferPointer { mkstemps($0.baseAddress!, 4) }
            guard fd >= 0 else { throw BoardError(file: path, "cannot create a temporary file for dtc") }
            close(fd)
            let out = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
            temporary = out
            var messages = [CChar](repeating: 0, count: 4096)
            let ret = swiommu_glue_compile_dts(path, out, &messages, messages.count)
            guard ret == 0 else {
                unlink(out)
                let text = messages.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
                    .split(separator: "\n").prefix(3).joined(separator: "; ")
                throw BoardError(file: path, "dtc failed: " + (text.isEmpty ? "exit status \(ret)" : text))
            }
            blobPath = out
        }
        defer { if let t = temporary { unlink(t) } }
        return try make(bytes: readFile(blobPath, reportAs: path), file: path)
    }

    private static func readFile(_ path: String, reportAs name: String) throws(BoardError) -> [UInt8] {
        guard let f = fopen(path, "rb") else {
            throw BoardError(file: name, "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n > 0 { bytes.append(contentsOf: chunk[0..<n]) }
            if n < chunk.count { break }
            guard bytes.count < 64 << 20 else { throw BoardError(file: name, "larger than 64 MiB: not a board") }
        }
        return bytes
    }

    private static func make(bytes: [UInt8], file: String) throws(BoardError) -> Board {
        let parsed = bytes.withUnsafeBytes { b in
            Result { () throws(BoardError) -> DeviceTree in try FlattenedTree.parse(b, file: file) }
        }
        return try make(tree: parsed.get(), file: file)
    }

    private static func make(tree: DeviceTree, file: String) throws(BoardError) -> Board {
        let options = try BoardOptions.parse(tree, file: file)
        let ram = try memoryBanks(tree, file: file)
        try validateReferences(tree, file: file)
        return Board(source: file, tree: tree, ram: ram, options: options)
    }

    /// The most RAM a board may have (256 GiB).
    public static let maxRAM: UInt64 = 1 << 38

    /// RAM from the /memory nodes (device_type = "memory"), in the root's address and size cells.
    private static func memoryBanks(_ tree: DeviceTree, file: String) throws(BoardError) -> [RAMBankLayout] {
        let (ac, sc) = DeviceTree.cellCounts(forChildrenOf: tree.root)
        var banks: [RAMBankLayout] = []
        var child = tree.root.pointee.child
        while let n = child {
            child = n.pointee.sibling
            guard DeviceTree.strings(n, "device_type").first == "memory", DeviceTree.isAvailable(n) else { continue }
            let path = DeviceTree.path(of: n)
            guard let reg = DeviceTree.cells(n, "reg"), !reg.isEmpty, reg.count % (ac + sc) == 0 else {
                throw BoardError(file: file, node: path, property: "reg",
                                 "not a whole number of (address, size) entries of \(ac) + \(sc) cells")
            }
            for e in stride(from: 0, to: reg.count, by: ac + sc) {
                let start = reg[e..<(e + ac)].reduce(UInt64(0)) { $0 << 32 | UInt64($1) }
                let size = reg[(e + ac)..<(e + ac + sc)].reduce(UInt64(0)) { $0 << 32 | UInt64($1) }
                guard size > 0, start % 4096 == 0, size % 4096 == 0 else {
                    throw BoardError(file: file, node: path, property: "reg",
                                     "bank \(Kernel.hex(start)) + \(Kernel.hex(size)) is empty or not page aligned")
                }
                guard !start.addingReportingOverflow(size).overflow else {
                    throw BoardError(file: file, node: path, property: "reg",
                                     "bank \(Kernel.hex(start)) + \(Kernel.hex(size)) runs past the top of the address space")
                }
                if let clash = banks.first(where: { start < $0.start.rawValue + $0.size && $0.start.rawValue < start + size }) {
                    throw BoardError(file: file, node: path, property: "reg",
                                     "bank \(Kernel.hex(start)) overlaps the bank at \(clash.start)")
                }
                banks.append(RAMBankLayout(start: PhysicalAddress(start), size: size))
            }
        }
        guard !banks.isEmpty else { throw BoardError(file: file, node: "/", "no memory node: the board has no RAM") }
        // The host keeps a struct page per page and boot walks them: more would take minutes, or the host's memory.
        let total = banks.reduce(UInt64(0)) { $0 &+ $1.size }
        guard total <= maxRAM, total >= banks.map(\.size).max() ?? 0 else {
            throw BoardError(file: file, node: "/", "the RAM banks total \(Kernel.hex(total)) bytes: swiommu simulates "
                             + "at most \(maxRAM >> 30) GiB")
        }
        return banks.sorted { $0.start < $1.start }
    }

    /// Every phandle reference resolves, and every "iommus" entry has its #iommu-cells.
    private static func validateReferences(_ tree: DeviceTree, file: String) throws(BoardError) {
        for n in tree.nodes {
            let path = DeviceTree.path(of: n)
            _ = try OFIOMMU.channels(of: n, in: tree, file: file)
            try OFIOMMU.validateMap(n, in: tree, file: file)
            for name in ["memory-region", "interrupt-parent"] {
                for ph in DeviceTree.cells(n, name) ?? [] where tree.node(phandle: ph) == nil {
                    throw BoardError(file: file, node: path, property: name, "phandle \(Kernel.hex(ph)) does not exist")
                }
            }
            if let main = DeviceTree.cells(n, "renesas,ipmmu-main"), let ph = main.first, tree.node(phandle: ph) == nil {
                throw BoardError(file: file, node: path, property: "renesas,ipmmu-main",
                                 "phandle \(Kernel.hex(ph)) does not exist")
            }
            _ = try ReservedRegions.entries(of: n, in: tree, file: file)
        }
    }
}
