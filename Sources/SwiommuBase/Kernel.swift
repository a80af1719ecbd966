// The kernel log and WARN records as the Swift layers use them; the ring itself lives in the C glue so
// that printk() from C and messages from Swift share one order.
import CSwiommuGlue

/// Kernel log levels. Kernel: `LOGLEVEL_*`.
public enum LogLevel: Int32, Sendable {
    case emergency = 0, alert, critical, error, warning, notice, info, debug
}

public enum Kernel {
    /// Log one message. Kernel: `printk`.
    public static func log(_ level: LogLevel, _ message: String) {
        message.withCString { swiommu_glue_log(level.rawValue, $0) }
    }

    /// Log a message about a device, prefixed "driver device: " as `dev_printk` does.
    public static func log(_ level: LogLevel, driver: String, device: String, _ message: String) {
        log(level, "\(driver) \(device): \(message)")
    }

    /// Record a WARN: printed as the kernel prints one, counted, queryable. The caller then handles the
    /// condition. Kernel: `WARN(1, ...)`.
    public static func warn(_ message: String, file: StaticString = #fileID, line: Int = #line,
                            function: StaticString = #function) {
        file.withUTF8Buffer { f in
            function.withUTF8Buffer { fn in
                let fileName = String(decoding: f, as: UTF8.self)
                let functionName = String(decoding: fn, as: UTF8.self)
                swiommu_glue_warn(fileName, Int32(line), functionName, message)
            }
        }
    }

    /// Start a new boot: WARN_ON_ONCE sites may fire again and log timestamps restart.
    public static func newBoot() { swiommu_glue_new_boot() }

    /// Lowercase hexadecimal with a 0x prefix, as `%#llx` prints.
    @inlinable public static func hex<T: BinaryInteger>(_ value: T) -> String {
        "0x" + String(value, radix: 16)
    }
}
