// The text dump of a table, for debugging: shared formatting (each format walks its own tables in its
// `dump(into:)`), reachable from C as swiommu_io_pgtable_dump().
import SwiommuBase

/// Fixed-width numbers for the dumps.
enum DumpFormat {
    static func hex64(_ v: UInt64) -> String {
        let digits = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 16 - digits.count)) + digits
    }

    static func hex32(_ v: UInt32) -> String {
        let digits = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }

    static func index(_ i: Int) -> String {
        let digits = String(i)
        return String(repeating: "0", count: max(0, 3 - digits.count)) + digits
    }
}
