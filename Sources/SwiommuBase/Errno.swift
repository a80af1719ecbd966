// The errno values the core returns; converted to negative ints only at the C boundary.

/// A kernel errno. The raw value is the positive number; C sees `-rawValue`.
public enum Errno: Int32, Error, Sendable {
    case notPermitted = 1        // EPERM
    case noEntry = 2             // ENOENT
    case io = 5                  // EIO
    case noDeviceOrAddress = 6   // ENXIO
    case noMemory = 12           // ENOMEM
    case fault = 14              // EFAULT
    case busy = 16               // EBUSY
    case exists = 17             // EEXIST
    case noDevice = 19           // ENODEV
    case invalid = 22            // EINVAL
    case noSpace = 28            // ENOSPC
    case range = 34              // ERANGE
    case noSys = 38              // ENOSYS
    case noData = 61             // ENODATA
    case overflow = 75           // EOVERFLOW
    case illegalSequence = 84    // EILSEQ
    case notSupported = 95       // EOPNOTSUPP
    case probeDefer = 517        // EPROBE_DEFER

    /// The value a kernel function returns: `-errno`.
    @inlinable public var negated: Int32 { -rawValue }

    /// The errno for a negative return value, if it is one of ours.
    public init?(negated value: Int32) { self.init(rawValue: -value) }
}
