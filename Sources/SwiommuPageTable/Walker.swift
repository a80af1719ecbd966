// The hardware walker: what an IOMMU does with the tables in RAM, decoded from its registers and the
// descriptors alone. Separate from the formats' iova_to_phys, as hardware and driver are separate; it
// shares no code with them. Sources: Arm ARM DDI 0487 D8 (VMSAv8-64), DDI 0406C B3 (VMSAv7
// short descriptors), the Mali and DART layouts as io-pgtable-arm.c and io-pgtable-dart.c write them.
import CKernel
import CSwiommuGlue
import SwiommuBase
import SwiommuMemory

/// What a device access asks for.
public struct WalkAccess: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `SWIOMMU_PGTABLE_ACCESS_READ`
    public static let read = WalkAccess(rawValue: 1 << 0)
    /// `SWIOMMU_PGTABLE_ACCESS_WRITE`
    public static let write = WalkAccess(rawValue: 1 << 1)
    /// `SWIOMMU_PGTABLE_ACCESS_EXEC`: an instruction fetch.
    public static let exec = WalkAccess(rawValue: 1 << 2)
    /// `SWIOMMU_PGTABLE_ACCESS_PRIV`: a privileged transaction.
    public static let privileged = WalkAccess(rawValue: 1 << 3)
}

/// Why a walk produced no output address. Values are `enum swiommu_pgtable_fault_type`'s.
public enum WalkFaultKind: Int32, Sendable {
    case translation = 1
    case permission = 2
    case addressSize = 3
    case accessFlag = 4
    /// A table address that is not RAM: an external abort on the walk.
    case external = 5
}

/// A fault record, as an IOMMU reports one.
public struct WalkFault: Error, Sendable, Equatable {
    public var kind: WalkFaultKind
    public var level: Int
    public var iova: UInt64

    public init(kind: WalkFaultKind, level: Int, iova: UInt64) {
        self.kind = kind
        self.level = level
        self.iova = iova
    }
}

/// A successful translation.
public struct WalkTranslation: Sendable, Equatable {
    /// The output address.
    public var phys: UInt64
    /// Bytes the leaf maps.
    public var size: UInt64
    public var level: Int
    /// What the leaf grants an access of this privilege, as `IOMMU_*` flags.
    public var prot: IOMMUProt
    /// The leaf descriptor.
    public var pte: UInt64
}

/// An IOMMU's table walker, with its registers latched. It refers to the memory unretained: the caller keeps
/// the memory alive while it uses the walker (the C API checks the boot it was latched in).
public struct PageTableWalker {
    enum Kind { case lpaeStage1, lpaeStage2, mali, v7s, dart1, dart2 }

    /// Marks a latched walker in C storage (`struct swiommu_pgtable_walker`).
    static let magic: UInt64 = 0x4b4c_4157_5450_5753 // "SWPTWALK"
    let magic: UInt64
    /// The boot the memory reference belongs to.
    let generation: UInt
    let kind: Kind
    let memory: Unmanaged<SimulatedMemory>
    let banks: UnsafeMutablePointer<RAMBank>
    let bankCount: Int
    /// The bank of the top-level table, where a walk's tables usually are (checked first).
    let primaryStart: UInt64
    let primarySize: UInt64
    let primaryBase: UnsafeMutableRawPointer?
    /// Whether the walk snoops the CPU's caches (else it reads memory's view).
    let coherent: Bool
    let inputBits: Int
    let outputBits: Int
    let base: UInt64
    // VMSAv8-64
    let granuleShift: Int
    let startLevel: Int
    let topIndexBits: Int
    /// Per-level right shifts of the input address, one byte per level.
    let levelShifts: UInt32
    /// Bit l set: level l may hold a block.
    let blockLevels: UInt32
    /// Whether the fast walk applies: coherent, tables in one bank, no 52-bit table addresses.
    let fastWalk: Bool
    let upperRange: Bool
    let mair: UInt64
    let forcedWriteBack: Bool
    // VMSAv7
    let noPermissions: Bool
    let mediatekPA: Bool
    let mediatekTableBase: Bool
    let prrr: UInt32
    let nmrr: UInt32
    // DART
    let ttbrs: (UInt64, UInt64, UInt64, UInt64)
    let ttbrCount: Int

    /// Latch the registers of `config` for `format`. Nil when they describe no valid table (a reserved
    /// granule or size encoding, a start level the size does not allow, an unknown format).
    @inline(__always)
    public init?(format: io_pgtable_fmt, config: UnsafePointer<io_pgtable_cfg>, memory: SimulatedMemory) {
        self.memory = Unmanaged.passUnretained(memory)
        magic = Self.magic
        generation = swiommu_pgt_boot_generation()
        let physical = memory.physical
        banks = physical.banks.baseAddress.unsafelyUnwrapped
        bankCount = physical.banks.count
        let cfg = config
        var coherent = cfg.pointee.coherent_walk
        var inputBits = Int(cfg.pointee.ias)
        var outputBits = Int(cfg.pointee.oas)
        var base: UInt64 = 0
        var granuleShift = 12
        var startLevel = 0
        var topIndexBits = 0
        var upperRange = false
        var mair: UInt64 = 0
        var ttbrs: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var ttbrCount = 0
        var fwb = false
        let kind: Kind
        switch format {
        case ARM_32_LPAE_S1, ARM_64_LPAE_S1:
            kind = .lpaeStage1
            let tcr = cfg.pointee.arm_lpae_s1_cfg.tcr
            upperRange = cfg.pointee.quirks & PageTableQuirk.armTTBR1 != 0
            // TCR.TG0 and TG1 encode the granule differently (D19.2.139 TCR_EL1).
            switch (upperRange, tcr.tg) {
            case (false, 0), (true, 2): granuleShift = 12
            case (false, 2), (true, 1): granuleShift = 14
            case (false, 1), (true, 3): granuleShift = 16
            default: return nil
            }
            inputBits = 64 - Int(tcr.tsz)
            guard let bits = Self.physicalSize(tcr.ips) else { return nil }
            outputBits = bits
            coherent = coherent && tcr.irgn != 0
            mair = cfg.pointee.arm_lpae_s1_cfg.mair
            guard let (start, top) = Self.levels(inputBits: inputBits, granuleShift: granuleShift) else { return nil }
            (startLevel, topIndexBits) = (start, top)
            base = Self.tableBase(cfg.pointee.arm_lpae_s1_cfg.ttbr, granuleShift: granuleShift)
        case ARM_32_LPAE_S2, ARM_64_LPAE_S2:
            kind = .lpaeStage2
            let vtcr = cfg.pointee.arm_lpae_s2_cfg.vtcr
            switch vtcr.tg {
            case 0: granuleShift = 12
            case 2: granuleShift = 14
            case 1: granuleShift = 16
            default: return nil
            }
            inputBits = 64 - Int(vtcr.tsz)
            guard let bits = Self.physicalSize(vtcr.ps) else { return nil }
            outputBits = bits
            coherent = coherent && vtcr.irgn != 0
            // VTCR.SL0 gives the start level; with 4K: 0 -> 2, 1 -> 1, 2 -> 0; otherwise 0 -> 3, 1 -> 2, 2 -> 1.
            guard vtcr.sl != 3 else { return nil }
            startLevel = granuleShift == 12 ? 2 - Int(vtcr.sl) : 3 - Int(vtcr.sl)
            let bpl = granuleShift - 3
            let shift = (4 - startLevel) * bpl + 3
            topIndexBits = inputBits - shift
            // Up to 16 concatenated tables at the start level (D8.2.6).
            guard topIndexBits >= 1 && topIndexBits <= bpl + 4 && inputBits <= 48 + (granuleShift == 16 ? 4 : 0) else {
                return nil
            }
            base = Self.tableBase(cfg.pointee.arm_lpae_s2_cfg.vttbr, granuleShift: granuleShift)
            fwb = cfg.pointee.quirks & PageTableQuirk.armS2FWB != 0
        case ARM_MALI_LPAE:
            kind = .mali
            // Mali walks four levels of 4K tables from level 0; a top level of one entry below 40 bits.
            guard inputBits > 12 && inputBits <= 48 else { return nil }
            startLevel = 0
            topIndexBits = max(0, inputBits - 39)
            base = cfg.pointee.arm_mali_lpae_cfg.transtab & genmask(47, 12)
            coherent = coherent && cfg.pointee.arm_mali_lpae_cfg.transtab & (1 << 4) != 0
            mair = cfg.pointee.arm_mali_lpae_cfg.memattr
        case ARM_V7S:
            kind = .v7s
            let ttbr = cfg.pointee.arm_v7s_cfg.ttbr
            let mtk = cfg.pointee.quirks & PageTableQuirk.armMTKExt != 0
            guard inputBits >= 20 && inputBits <= (mtk ? 34 : 32) else { return nil }
            // TTBR0 bits [6:0] hold walk attributes, or (MediaTek) PA[34:32] in bits [2:0].
            base = UInt64(ttbr & ~0x7f) | (mtk ? UInt64(ttbr & 0x7) << 32 : 0)
            coherent = coherent && (mtk || ttbr & 0x41 != 0)
        case APPLE_DART, APPLE_DART2:
            kind = format == APPLE_DART ? .dart1 : .dart2
            let bitmap = UInt64(cfg.pointee.pgsize_bitmap)
            guard bitmap == 0x1000 || bitmap == 0x4000 else { return nil }
            granuleShift = bitmap.trailingZeroBitCount
            ttbrCount = Int(cfg.pointee.apple_dart_cfg.n_ttbrs)
            guard ttbrCount == 1 || ttbrCount == 2 || ttbrCount == 4 else { return nil }
            ttbrs = cfg.pointee.apple_dart_cfg.ttbr
        default:
            return nil
        }
        self.kind = kind
        self.coherent = coherent
        self.inputBits = inputBits
        self.outputBits = outputBits
        self.base = base
        self.granuleShift = granuleShift
        self.startLevel = startLevel
        self.topIndexBits = topIndexBits
        var shifts: UInt32 = 0
        for level in 0..<4 { shifts |= UInt32((4 - level) * (granuleShift - 3) + 3) << UInt32(level << 3) }
        levelShifts = shifts
        self.upperRange = upperRange
        self.mair = mair
        forcedWriteBack = fwb
        // The short-descriptor registers and traits share the union with the others: read them only for v7s.
        let v7s = kind == .v7s
        let quirks = v7s ? cfg.pointee.quirks : 0
        noPermissions = quirks & PageTableQuirk.noPerms != 0
        mediatekPA = quirks & PageTableQuirk.armMTKExt != 0
        mediatekTableBase = quirks & PageTableQuirk.armMTKTTBRExt != 0
        prrr = v7s ? cfg.pointee.arm_v7s_cfg.prrr : 0
        nmrr = v7s ? cfg.pointee.arm_v7s_cfg.nmrr : 0
        self.ttbrs = ttbrs
        self.ttbrCount = ttbrCount
        var blocks: UInt32 = 1 << 2
        if granuleShift == 12 || (granuleShift == 16 && outputBits == 52) { blocks |= 1 << 1 }
        blockLevels = blocks
        var primary: (UInt64, UInt64, UnsafeMutableRawPointer?) = (0, 0, nil)
        let anchor = kind == .dart1 || kind == .dart2 ? ttbrs.0 : base
        for i in 0..<bankCount where anchor &- banks[i].start.rawValue < banks[i].size {
            primary = (banks[i].start.rawValue, banks[i].size, banks[i].base)
        }
        (primaryStart, primarySize, primaryBase) = primary
        fastWalk = coherent && primary.2 != nil && granuleShift != 16 && (kind == .lpaeStage1 || kind == .lpaeStage2)
    }

    /// TCR.IPS / VTCR.PS (D19.2.139): 32, 36, 40, 42, 44, 48, 52 bits.
    static func physicalSize(_ encoding: UInt32) -> Int? {
        switch encoding {
        case 0: 32
        case 1: 36
        case 2: 40
        case 3: 42
        case 4: 44
        case 5: 48
        case 6: 52
        default: nil
        }
    }

    /// The start level of a stage-1 walk and the index bits of its top table (D8.2.7).
    @inline(__always)
    static func levels(inputBits: Int, granuleShift: Int) -> (Int, Int)? {
        let bpl = granuleShift - 3
        guard inputBits > granuleShift && inputBits <= (granuleShift == 16 ? 52 : 48) else { return nil }
        var levels = 0
        var bits = inputBits - granuleShift
        while bits > 0 {
            bits -= bpl
            levels += 1
        }
        let start = 4 - levels
        return (start, inputBits - ((4 - start) * bpl + 3))
    }

    /// TTBR BADDR: bits [47:6] (bit 0 is CnP); with a 64K granule, bits [5:2] hold PA[51:48].
    static func tableBase(_ ttbr: UInt64, granuleShift: Int) -> UInt64 {
        let low = ttbr & genmask(47, 6)
        return granuleShift == 16 ? low | (((ttbr >> 2) & 0xf) << 48) : low
    }

    /// Latch, walk, and fill the C result: what swiommu_io_pgtable_translate() does. 0, -EFAULT with the
    /// fault record, or -EINVAL for registers that describe no table.
    public static func translate(format: io_pgtable_fmt, config: UnsafePointer<io_pgtable_cfg>, memory: SimulatedMemory,
                                 iova: UInt64, access: UInt32,
                                 into out: UnsafeMutablePointer<swiommu_pgtable_translation>) -> Int32 {
        guard var walker = PageTableWalker(format: format, config: config, memory: memory) else {
            return Errno.invalid.negated
        }
        return withUnsafePointer(to: &walker) {
            fill(Self.translate($0, iova, WalkAccess(rawValue: access)), iova: iova, access: access, into: out)
        }
    }

    /// `translate(format:config:memory:iova:access:into:)` for the machine's memory, keeping per thread the
    /// registers it decoded last: a run of translations through one cfg decodes them once, as hardware latches
    /// them. Every value the decoding reads is compared, with the boot, before the memo is used.
    public static func translateMemoized(format: io_pgtable_fmt, config: UnsafePointer<io_pgtable_cfg>,
                                         memory: SimulatedMemory, iova: UInt64, access: UInt32,
                                         into out: UnsafeMutablePointer<swiommu_pgtable_translation>) -> Int32 {
        let memo = swiommu_pgt_walker_memo()!
        let cfg = UnsafeRawPointer(config)
        // The key: format, boot, memory, then quirks .. coherent_walk and the register union.
        let head = MemoryLayout<io_pgtable_cfg>.offset(of: \io_pgtable_cfg.coherent_walk)! + 1
        let union = MemoryLayout<io_pgtable_cfg>.offset(of: \io_pgtable_cfg.free)! + 8
        let unionWords = (MemoryLayout<io_pgtable_cfg>.size - union) / 8
        let headWords = (head + 7) / 8
        let identity = UInt64(UInt(bitPattern: Unmanaged.passUnretained(memory).toOpaque()))
        var same = memo[0] == (UInt64(format.rawValue) | 1 << 63) && memo[1] == UInt64(swiommu_pgt_boot_generation())
            && memo[2] == identity
        if same {
            for i in 0..<headWords {
                // The last word of the head holds coherent_walk and padding: compare the meaningful byte only.
                let mask: UInt64 = i == headWords - 1 && head % 8 != 0 ? (1 << UInt64(8 * (head % 8))) - 1 : ~0
                if (cfg.load(fromByteOffset: i * 8, as: UInt64.self) ^ memo[3 + i]) & mask != 0 { same = false }
            }
            for i in 0..<unionWords where cfg.load(fromByteOffset: union + i * 8, as: UInt64.self) != memo[3 + headWords + i] {
                same = false
            }
        }
        let storage = UnsafeMutableRawPointer(memo + 16).assumingMemoryBound(to: PageTableWalker.self)
        if !same {
            guard 3 + headWords + unionWords <= 16 && MemoryLayout<PageTableWalker>.size <= 8 * (Int(SWIOMMU_PGT_WALKER_MEMO_WORDS) - 16),
                  let walker = PageTableWalker(format: format, config: config, memory: memory) else {
                memo[0] = 0
                return translate(format: format, config: config, memory: memory, iova: iova, access: access, into: out)
            }
            storage.initialize(to: walker)
            memo[0] = UInt64(format.rawValue) | 1 << 63
            memo[1] = UInt64(swiommu_pgt_boot_generation())
            memo[2] = identity
            for i in 0..<headWords { memo[3 + i] = cfg.load(fromByteOffset: i * 8, as: UInt64.self) }
            for i in 0..<unionWords { memo[3 + headWords + i] = cfg.load(fromByteOffset: union + i * 8, as: UInt64.self) }
        }
        return fill(Self.translate(storage, iova, WalkAccess(rawValue: access)), iova: iova, access: access, into: out)
    }

    @inline(__always)
    static func fill(_ result: Result<WalkTranslation, WalkFault>, iova: UInt64, access: UInt32,
                     into out: UnsafeMutablePointer<swiommu_pgtable_translation>) -> Int32 {
        switch result {
        case .success(let t):
            out.pointee.phys = t.phys
            out.pointee.size = Int(truncatingIfNeeded: t.size)
            out.pointee.level = Int32(t.level)
            out.pointee.prot = UInt32(bitPattern: t.prot.rawValue)
            out.pointee.pte = t.pte
            out.pointee.fault = swiommu_pgtable_fault(type: SWIOMMU_PGTABLE_FAULT_NONE, level: 0,
                                                      iova: CUnsignedLong(iova), access: access)
            return 0
        case .failure(let f):
            out.pointee.phys = 0
            out.pointee.size = 0
            out.pointee.level = Int32(f.level)
            out.pointee.prot = 0
            out.pointee.pte = 0
            out.pointee.fault = swiommu_pgtable_fault(type: swiommu_pgtable_fault_type(UInt32(f.kind.rawValue)),
                                                      level: Int32(f.level), iova: CUnsignedLong(iova), access: access)
            return Errno.fault.negated
        }
    }

    /// Latch the registers into C storage of `capacity` bytes (`struct swiommu_pgtable_walker`), as an IOMMU
    /// latches its context registers. 0, or -EINVAL for registers that describe no table.
    public static func latch(format: io_pgtable_fmt, config: UnsafePointer<io_pgtable_cfg>, memory: SimulatedMemory,
                             into storage: UnsafeMutableRawPointer, capacity: Int) -> Int32 {
        precondition(MemoryLayout<PageTableWalker>.size <= capacity && MemoryLayout<PageTableWalker>.alignment <= 8)
        guard let walker = PageTableWalker(format: format, config: config, memory: memory) else {
            storage.storeBytes(of: 0, toByteOffset: MemoryLayout<PageTableWalker>.offset(of: \PageTableWalker.magic)!,
                               as: UInt64.self)
            return Errno.invalid.negated
        }
        storage.initializeMemory(as: PageTableWalker.self, repeating: walker, count: 1)
        return 0
    }

    /// Translate with a walker `latch` stored: 0, -EFAULT with the fault record, -EINVAL for storage that holds no
    /// walker, -ENODEV for one latched before the current boot.
    public static func translate(latched storage: UnsafeRawPointer, iova: UInt64, access: UInt32,
                                 into out: UnsafeMutablePointer<swiommu_pgtable_translation>) -> Int32 {
        guard storage.load(fromByteOffset: MemoryLayout<PageTableWalker>.offset(of: \PageTableWalker.magic)!, as: UInt64.self)
                == Self.magic else { return Errno.invalid.negated }
        let walker = storage.assumingMemoryBound(to: PageTableWalker.self)
        guard walker.pointee.generation == swiommu_pgt_boot_generation() else { return Errno.noDevice.negated }
        return fill(Self.translate(walker, iova, WalkAccess(rawValue: access)), iova: iova, access: access, into: out)
    }

    // MARK: Reading RAM as the IOMMU does

    /// A descriptor, as the walker reads it: the CPU's view for a coherent walk, memory's otherwise.
    @inline(__always)
    static func read64(_ w: UnsafePointer<PageTableWalker>, _ pa: UInt64) -> UInt64? {
        let offset = pa &- w.pointee.primaryStart
        if _fastPath(w.pointee.coherent && offset &+ 8 <= w.pointee.primarySize) {
            return (w.pointee.primaryBase.unsafelyUnwrapped + Int(truncatingIfNeeded: offset)).load(as: UInt64.self)
        }
        return slowRead64(w, pa)
    }

    /// Read one descriptor of `T`'s width: straight from RAM for a coherent walk, else memory's view.
    @inline(__always)
    static func readDescriptor<T: FixedWidthInteger>(_ w: UnsafePointer<PageTableWalker>, _ pa: UInt64,
                                                     as _: T.Type) -> T? {
        let width = UInt64(MemoryLayout<T>.size)
        if w.pointee.coherent {
            var b = w.pointee.banks
            let end = w.pointee.banks + w.pointee.bankCount
            while b != end {
                let offset = pa &- b.pointee.start.rawValue
                if offset &+ width <= b.pointee.size { return (b.pointee.base + Int(truncatingIfNeeded: offset)).load(as: T.self) }
                b += 1
            }
            return nil
        }
        var value: T = 0
        let ok = w.pointee.memory._withUnsafeGuaranteedRef { m in
            withUnsafeMutableBytes(of: &value) { m.deviceRead(PhysicalAddress(pa), into: $0.baseAddress!, size: Int(width), coherent: false) }
        }
        return ok ? value : nil
    }

    @inline(never)
    static func slowRead64(_ w: UnsafePointer<PageTableWalker>, _ pa: UInt64) -> UInt64? {
        readDescriptor(w, pa, as: UInt64.self)
    }

    @inline(__always)
    static func read32(_ w: UnsafePointer<PageTableWalker>, _ pa: UInt64) -> UInt32? {
        readDescriptor(w, pa, as: UInt32.self)
    }

    // MARK: Translation

    /// Translate one access. Faults come in the architecture's priority order: translation, address size,
    /// access flag, permission.
    @inline(__always)
    public func translate(_ iova: UInt64, access: WalkAccess) -> Result<WalkTranslation, WalkFault> {
        withUnsafePointer(to: self) { Self.translate($0, iova, access) }
    }

    /// Translate with the walker at `w` (no copy of its state), the hot path's way in. The faults come in the
    /// architecture's priority order: translation, address size, access flag, permission.
    @inline(__always)
    public static func translate(_ w: UnsafePointer<PageTableWalker>, _ iova: UInt64, _ access: WalkAccess)
        -> Result<WalkTranslation, WalkFault> {
        switch w.pointee.kind {
        case .lpaeStage1, .lpaeStage2, .mali: fastVMSAv8(w, iova, access) ?? translateVMSAv8(w, iova, access)
        case .v7s: translateVMSAv7(w, iova, access)
        case .dart1, .dart2: translateDART(w, iova, access)
        }
    }

    // MARK: VMSAv8-64 long descriptors (D8.3)

    static func translateVMSAv8(_ w: UnsafePointer<PageTableWalker>, _ iova: UInt64, _ access: WalkAccess) -> Result<WalkTranslation, WalkFault> {
        // The input address must lie in the range the TTBR covers (sign-extended for the upper range).
        let top = Int64(bitPattern: iova) &>> Int64(w.pointee.inputBits)
        guard w.pointee.upperRange ? top == -1 : top == 0 else { return .failure(WalkFault(kind: .translation, level: 0, iova: iova)) }
        let outputShift = UInt64(w.pointee.outputBits)
        guard w.pointee.base &>> outputShift == 0 else { return .failure(WalkFault(kind: .addressSize, level: 0, iova: iova)) }
        let tableMask = (UInt64(1) &<< UInt64(w.pointee.granuleShift &- 3)) &- 1
        let granuleMask = ~((UInt64(1) &<< UInt64(w.pointee.granuleShift)) &- 1)
        var table = w.pointee.base
        var level = w.pointee.startLevel
        var indexMask = (UInt64(1) &<< UInt64(w.pointee.topIndexBits)) &- 1
        // Hierarchical attributes of stage-1 table descriptors: APTable[1:0] (62:61), UXNTable (60), PXNTable (59).
        var tableAttributes: UInt64 = 0
        while true {
            let shift = UInt64((w.pointee.levelShifts &>> UInt32(level &<< 3)) & 0xff)
            let index = (iova &>> shift) & indexMask
            guard let pte = read64(w, table &+ (index &<< 3)) else {
                return .failure(WalkFault(kind: .external, level: level, iova: iova))
            }
            // Bit 0: valid.
            guard pte & 1 != 0 else { return .failure(WalkFault(kind: .translation, level: level, iova: iova)) }
            let address = descriptorAddress(w, pte)
            if level < 3 && pte & 2 != 0 {
                // A table descriptor (bits [1:0] = 0b11); bits [58:51] (the software bits included) are ignored.
                guard address &>> outputShift == 0 else {
                    return .failure(WalkFault(kind: .addressSize, level: level, iova: iova))
                }
                tableAttributes |= pte
                table = address & granuleMask
                level &+= 1
                indexMask = tableMask
                continue
            }
            // A block (levels 1-2, 0b01) or page (level 3, 0b11; Mali uses 0b01 there too).
            guard leafAllowed(w, pte, level) else { return .failure(WalkFault(kind: .translation, level: level, iova: iova)) }
            let size = UInt64(1) &<< shift
            let output = address & ~(size &- 1)
            guard output &>> outputShift == 0 else {
                return .failure(WalkFault(kind: .addressSize, level: level, iova: iova))
            }
            // AF (bit 10): hardware update of the flag is not modelled, so a clear flag faults. Mali has none.
            guard w.pointee.kind == .mali || pte & (1 << 10) != 0 else {
                return .failure(WalkFault(kind: .accessFlag, level: level, iova: iova))
            }
            let prot = leafProt(w, pte, tableAttributes: tableAttributes, access: access)
            if let fault = Self.permissionFault(prot, access, level: level, iova: iova) { return .failure(fault) }
            return .success(WalkTranslation(phys: output | (iova & (size &- 1)), size: size, level: level, prot: prot, pte: pte))
        }
    }

    /// Whether a leaf descriptor's type is valid at `level`: a page (0b11) at level 3, a block (0b01) where the
    /// granule allows one (D8.3.1); Mali uses 0b01 at every level.
    @inline(__always)
    static func leafAllowed(_ w: UnsafePointer<PageTableWalker>, _ pte: UInt64, _ level: Int) -> Bool {
        let type = pte & 3
        if w.pointee.kind == .mali { return type == 1 && level >= 1 }
        if level == 3 { return type == 3 }
        return type == 1 && (w.pointee.blockLevels &>> UInt32(level)) & 1 != 0
    }

    /// What a valid leaf grants an access of this privilege, with the hierarchical table attributes.
    @inline(__always)
    static func leafProt(_ w: UnsafePointer<PageTableWalker>, _ pte: UInt64, tableAttributes: UInt64, access: WalkAccess) -> IOMMUProt {
        var prot: IOMMUProt = []
        if w.pointee.kind == .lpaeStage1 {
            // APTable[1:0] (62:61), UXNTable (60), PXNTable (59) of the tables above.
            let privileged = access.contains(.privileged)
            // AP[2:1] (bits 7:6): AP[1] grants unprivileged access, AP[2] makes it read-only.
            let unprivileged = pte & (1 << 6) != 0 && tableAttributes & (1 << 61) == 0
            let readable = privileged || unprivileged
            let writable = readable && pte & (1 << 7) == 0 && tableAttributes & (1 << 62) == 0
            // PXN (53) and UXN (54).
            let executable = privileged ? (pte & (1 << 53)) | (tableAttributes & (1 << 59)) == 0
                                        : (pte & (1 << 54)) | (tableAttributes & (1 << 60)) == 0
            if readable { prot.insert(.read) }
            if writable { prot.insert(.write) }
            if !executable { prot.insert(.noExec) }
            if !unprivileged { prot.insert(.priv) }
        } else {
            // S2AP (stage 2) or Mali's permissions: bit 6 read, bit 7 write; XN (54).
            if pte & (1 << 6) != 0 { prot.insert(.read) }
            if pte & (1 << 7) != 0 { prot.insert(.write) }
            if pte & (1 << 54) != 0 { prot.insert(.noExec) }
        }
        // The memory type: AttrIndx (4:2) selects a MAIR byte (stage 1, Mali); MemAttr (5:2) at stage 2.
        switch w.pointee.kind {
        case .lpaeStage2: prot.formUnion(stage2Type((pte &>> 2) & 0xf, forcedWriteBack: w.pointee.forcedWriteBack))
        case .mali: if (w.pointee.mair &>> (((pte &>> 2) & 7) &<< 3)) & 0xff == 0x8d { prot.insert(.cache) }
        default: prot.formUnion(mairType((w.pointee.mair &>> (((pte &>> 2) & 7) &<< 3)) & 0xff))
        }
        return prot
    }

    /// The common case without a fault, with the fewest instructions: a coherent walk whose tables are all in
    /// the top table's bank. Nil whenever anything is unusual (a fault to report, another bank, a 64K granule),
    /// for the precise walk to redo.
    @inline(__always)
    static func fastVMSAv8(_ w: UnsafePointer<PageTableWalker>, _ iova: UInt64, _ access: WalkAccess) -> Result<WalkTranslation, WalkFault>? {
        let top = Int64(bitPattern: iova) &>> Int64(w.pointee.inputBits)
        guard w.pointee.fastWalk && top == (w.pointee.upperRange ? -1 : 0) else { return nil }
        let tableMask = (UInt64(1) &<< UInt64(w.pointee.granuleShift &- 3)) &- 1
        let addressMask = genmask(47, 12)
        let tableAddressMask = genmask(47, w.pointee.granuleShift)
        let tableBase = w.pointee.primaryBase.unsafelyUnwrapped
        var table = w.pointee.base
        var addresses = w.pointee.base
        var level = w.pointee.startLevel
        var indexMask = (UInt64(1) &<< UInt64(w.pointee.topIndexBits)) &- 1
        var tableAttributes: UInt64 = 0
        var shift: UInt64
        var pte: UInt64
        while true {
            shift = UInt64((w.pointee.levelShifts &>> UInt32(level &<< 3)) & 0xff)
            let offset = (table &- w.pointee.primaryStart) &+ (((iova &>> shift) & indexMask) &<< 3)
            guard offset < w.pointee.primarySize else { return nil }
            pte = (tableBase + Int(truncatingIfNeeded: offset)).load(as: UInt64.self)
            guard pte & 1 != 0 else { return nil }
            guard level < 3 && pte & 2 != 0 else { break }
            table = pte & tableAddressMask
            addresses |= table
            tableAttributes |= pte
            level &+= 1
            indexMask = tableMask
        }
        let size = UInt64(1) &<< shift
        let output = pte & addressMask & ~(size &- 1)
        guard leafAllowed(w, pte, level) && (addresses | output) &>> UInt64(w.pointee.outputBits) == 0 else { return nil }
        guard w.pointee.kind == .mali || pte & (1 << 10) != 0 else { return nil }
        let prot = leafProt(w, pte, tableAttributes: tableAttributes, access: access)
        guard Self.permissionFault(prot, access, level: level, iova: iova) == nil else { return nil }
        return .success(WalkTranslation(phys: output | (iova & (size &- 1)), size: size, level: level, prot: prot, pte: pte))
    }

    /// Output address bits [47:12]; with a 64K granule (FEAT_LPA), bits [15:12] hold OA[51:48].
    @inline(__always)
    static func descriptorAddress(_ w: UnsafePointer<PageTableWalker>, _ pte: UInt64) -> UInt64 {
        let low = pte & genmask(47, 12)
        guard _slowPath(w.pointee.granuleShift == 16) else { return low }
        return (low & genmask(47, 16)) | (((pte >> 12) & 0xf) << 48)
    }

    /// A MAIR attribute byte (D19.2.97): device when the upper nibble is 0; cacheable when both nibbles are
    /// write-back.
    @inline(__always)
    static func mairType(_ attr: UInt64) -> IOMMUProt {
        if attr & 0xf0 == 0 { return .mmio }
        func writeBack(_ n: UInt64) -> Bool { n >> 2 == 3 || (n >> 2 == 1 && n & 3 != 0) }
        return writeBack(attr >> 4) && writeBack(attr & 0xf) ? .cache : []
    }

    /// Stage-2 MemAttr[3:0] (D8.6.5): without FWB, [3:2] outer and [1:0] inner, 0b00 outer is device; with
    /// FWB, 0b0110 forces write-back and 0b0xx1 with [3:2] = 0b00 is device.
    @inline(__always)
    static func stage2Type(_ memAttr: UInt64, forcedWriteBack: Bool) -> IOMMUProt {
        if forcedWriteBack {
            if memAttr == 0x6 { return .cache }
            return memAttr >> 2 == 0 ? .mmio : []
        }
        if memAttr >> 2 == 0 { return .mmio }
        return memAttr == 0xf ? .cache : []
    }

    @inline(__always)
    static func permissionFault(_ prot: IOMMUProt, _ access: WalkAccess, level: Int, iova: UInt64) -> WalkFault? {
        let denied = (access.contains(.read) && !prot.contains(.read)) || (access.contains(.write) && !prot.contains(.write))
            || (access.contains(.exec) && prot.contains(.noExec))
        return denied ? WalkFault(kind: .permission, level: level, iova: iova) : nil
    }

    // MARK: VMSAv7 short descriptors (B3.5.1), TEX remap, AP[2:1] model with AFE

    static func translateVMSAv7(_ w: UnsafePointer<PageTableWalker>, _ iova: UInt64, _ access: WalkAccess) -> Result<WalkTranslation, WalkFault> {
        guard iova >> UInt64(w.pointee.inputBits) == 0 else { return .failure(WalkFault(kind: .translation, level: 1, iova: iova)) }
        let l1Index = (iova >> 20) & ((1 << UInt64(w.pointee.inputBits - 20)) - 1)
        guard let l1 = read32(w, w.pointee.base &+ (l1Index << 2)) else { return .failure(WalkFault(kind: .external, level: 1, iova: iova)) }
        var pte = l1
        var level = 1
        var output: UInt64
        var size: UInt64
        var attrShift: UInt32
        var xn: Bool
        var tex: UInt32
        switch l1 & 3 {
        case 0:
            return .failure(WalkFault(kind: .translation, level: 1, iova: iova))
        case 1:
            // Page table: base in bits [31:10] (MediaTek: PA[34:32] in bits 9, 4, 5).
            var l2Base = UInt64(l1 & ~0x3ff)
            if w.pointee.mediatekTableBase { l2Base |= Self.mediatekHighBits(l1) }
            guard let l2 = read32(w, l2Base &+ (((iova >> 12) & 0xff) << 2)) else {
                return .failure(WalkFault(kind: .external, level: 2, iova: iova))
            }
            pte = l2
            level = 2
            attrShift = 4
            if l2 & 3 == 0 {
                return .failure(WalkFault(kind: .translation, level: 2, iova: iova))
            } else if l2 & 2 == 0 {
                // Large page (0b01): PA[31:16], TEX in [14:12], XN in bit 15.
                size = 0x10000
                output = UInt64(l2 & 0xffff_0000)
                xn = l2 & (1 << 15) != 0
                tex = (l2 >> 12) & 7
            } else {
                // Small page (0b1x): PA[31:12], TEX in [8:6], XN in bit 0.
                size = 0x1000
                output = UInt64(l2 & 0xffff_f000)
                xn = l2 & 1 != 0
                tex = (l2 >> 6) & 7
            }
        default:
            // Section (bit 18 clear, PA[31:20]) or supersection (bit 18 set, PA[31:24]); TEX [14:12], XN bit 4.
            attrShift = 10
            if l1 & (1 << 18) != 0 {
                size = 0x100_0000
                output = UInt64(l1 & 0xff00_0000)
            } else {
                size = 0x10_0000
                output = UInt64(l1 & 0xfff0_0000)
            }
            xn = l1 & (1 << 4) != 0
            tex = (l1 >> 12) & 7
        }
        if w.pointee.mediatekPA { output |= Self.mediatekHighBits(pte) }
        guard output >> UInt64(w.pointee.outputBits) == 0 else { return .failure(WalkFault(kind: .addressSize, level: level, iova: iova)) }
        let attr = pte >> attrShift
        var prot: IOMMUProt = []
        if w.pointee.noPermissions {
            // Hardware without permissions (MediaTek): no access flag, full access.
            prot = [.read, .write]
        } else {
            // AP[0] is the access flag (SCTLR.AFE = 1).
            guard attr & 1 != 0 else { return .failure(WalkFault(kind: .accessFlag, level: level, iova: iova)) }
            let unprivileged = attr & (1 << 1) != 0
            let readable = access.contains(.privileged) || unprivileged
            if readable { prot.insert(.read) }
            if readable && attr & (1 << 5) == 0 { prot.insert(.write) }
            if !unprivileged { prot.insert(.priv) }
            if xn { prot.insert(.noExec) }
        }
        // TEX remap: index = TEX[0]:C:B selects PRRR.TRn and NMRR.IRn/ORn.
        let n = ((tex & 1) << 2) | ((pte >> 2) & 3)
        switch (w.pointee.prrr >> (n * 2)) & 3 {
        case 0, 1: prot.insert(.mmio)
        case 2:
            let inner = (w.pointee.nmrr >> (n * 2)) & 3, outer = (w.pointee.nmrr >> (n * 2 + 16)) & 3
            if inner & 1 != 0 && outer & 1 != 0 { prot.insert(.cache) }
        default: break
        }
        if let fault = Self.permissionFault(prot, access, level: level, iova: iova) { return .failure(fault) }
        return .success(WalkTranslation(phys: output | (iova & (size - 1)), size: size, level: level, prot: prot, pte: UInt64(pte)))
    }

    /// MediaTek's PA[34:32] in descriptor bits 9, 4 and 5.
    @inline(__always)
    static func mediatekHighBits(_ pte: UInt32) -> UInt64 {
        var pa: UInt64 = 0
        if pte & (1 << 9) != 0 { pa |= 1 << 32 }
        if pte & (1 << 4) != 0 { pa |= 1 << 33 }
        if pte & (1 << 5) != 0 { pa |= 1 << 34 }
        return pa
    }

    // MARK: Apple DART

    static func translateDART(_ w: UnsafePointer<PageTableWalker>, _ iova: UInt64, _ access: WalkAccess) -> Result<WalkTranslation, WalkFault> {
        guard iova >> UInt64(w.pointee.inputBits) == 0 else { return .failure(WalkFault(kind: .translation, level: 1, iova: iova)) }
        let bpl = w.pointee.granuleShift - 3
        let tableIndex = Int((iova >> UInt64(3 * bpl + 3)) & UInt64(w.pointee.ttbrCount - 1))
        let ttbr = switch tableIndex {
        case 0: w.pointee.ttbrs.0
        case 1: w.pointee.ttbrs.1
        case 2: w.pointee.ttbrs.2
        default: w.pointee.ttbrs.3
        }
        let perTable = (UInt64(1) << UInt64(bpl)) - 1
        let dart2 = w.pointee.kind == .dart2
        func address(_ pte: UInt64) -> UInt64 { dart2 ? (pte & genmask(37, 10)) << 4 : pte & genmask(35, 12) }
        guard let l1 = read64(w, ttbr &+ (((iova >> UInt64(2 * bpl + 3)) & perTable) << 3)) else {
            return .failure(WalkFault(kind: .external, level: 1, iova: iova))
        }
        // Bit 0: valid.
        guard l1 & 1 != 0 else { return .failure(WalkFault(kind: .translation, level: 1, iova: iova)) }
        guard let pte = read64(w, address(l1) &+ (((iova >> UInt64(bpl + 3)) & perTable) << 3)) else {
            return .failure(WalkFault(kind: .external, level: 2, iova: iova))
        }
        guard pte & 1 != 0 else { return .failure(WalkFault(kind: .translation, level: 2, iova: iova)) }
        let size = UInt64(1) << UInt64(w.pointee.granuleShift)
        let output = address(pte)
        guard output >> UInt64(w.pointee.outputBits) == 0 else { return .failure(WalkFault(kind: .addressSize, level: 2, iova: iova)) }
        var prot: IOMMUProt = []
        let noRead: UInt64 = dart2 ? 1 << 3 : 1 << 8
        let noWrite: UInt64 = dart2 ? 1 << 2 : 1 << 7
        if pte & noRead == 0 { prot.insert(.read) }
        if pte & noWrite == 0 { prot.insert(.write) }
        if dart2 && pte & (1 << 1) == 0 { prot.insert(.cache) }
        // Sub-page protection: the access must fall in [SUBPAGE_START, SUBPAGE_END] (bits 63:52 and 51:40) in
        // units of 1/4096 of the page; DART1's SP_DIS (bit 1) turns the check off.
        if dart2 || pte & (1 << 1) == 0 {
            let unit = (iova & (size - 1)) >> UInt64(w.pointee.granuleShift - 12)
            if unit < pte >> 52 || unit > (pte >> 40) & 0xfff { prot = [] }
        }
        if let fault = Self.permissionFault(prot, access, level: 2, iova: iova) { return .failure(fault) }
        return .success(WalkTranslation(phys: output | (iova & (size - 1)), size: size, level: 2, prot: prot, pte: pte))
    }
}

// MARK: Driver-owned tables: Exynos SysMMU, Rockchip IOMMU

extension PageTableWalker {
    /// A 32-bit descriptor as the IOMMU reads it: the CPU's view for a coherent walk, memory's otherwise.
    /// Nil for an address that is not RAM.
    static func driverRead32(_ memory: SimulatedMemory, _ pa: UInt64, coherent: Bool) -> UInt32? {
        var value: UInt32 = 0
        let ok = withUnsafeMutableBytes(of: &value) {
            memory.deviceRead(PhysicalAddress(pa), into: $0.baseAddress!, size: 4, coherent: coherent)
        }
        return ok ? value : nil
    }

    /// The Exynos SysMMU's walk, from its page-table base register as `__sysmmu_set_ptbase` programs it (the LV1
    /// address; from v5 the address >> 12). LV1 entries: 0b10 section, 0b01 link to a level-2 table (the zero
    /// table's entries are faults), 0b00/0b11 fault; LV2 entries: 0b01 large page, 0b1x small page, 0b00 fault.
    /// Addresses are stored >> 4 from v5. Permissions before v5: AP[0] (bit 10 / bit 4) grants access, AP[2]
    /// (bit 15 / bit 9) makes it read-only; from v5 a read bit and a write bit at [5:4] / [3:2].
    /// Source: exynos-iommu.c (`mk_lv1ent_*`, `mk_lv2ent_*`, `SYSMMU_*_PROT`).
    public static func translateExynosSysMMU(memory: SimulatedMemory, ptBase: UInt32, majorVersion: Int, coherent: Bool,
                                             iova: UInt64, access: WalkAccess) -> Result<WalkTranslation, WalkFault> {
        guard iova >> 32 == 0 else { return .failure(WalkFault(kind: .translation, level: 1, iova: iova)) }
        let v5 = majorVersion >= 5
        let shift: UInt64 = v5 ? 4 : 0
        let base = v5 ? UInt64(ptBase) << 12 : UInt64(ptBase & ~0x3fff)
        guard let lv1 = driverRead32(memory, base &+ ((iova >> 20) << 2), coherent: coherent) else {
            return .failure(WalkFault(kind: .external, level: 1, iova: iova))
        }
        let pte: UInt32
        let level: Int
        let size: UInt64
        switch lv1 & 3 {
        case 2:
            pte = lv1
            level = 1
            size = 1 << 20
        case 1:
            let table = UInt64(lv1 & 0xffff_ffc0) << shift
            guard let lv2 = driverRead32(memory, table &+ (((iova >> 12) & 0xff) << 2), coherent: coherent) else {
                return .failure(WalkFault(kind: .external, level: 2, iova: iova))
            }
            guard lv2 & 3 != 0 else { return .failure(WalkFault(kind: .translation, level: 2, iova: iova)) }
            pte = lv2
            level = 2
            size = lv2 & 2 != 0 ? 1 << 12 : 1 << 16
        default:
            return .failure(WalkFault(kind: .translation, level: 1, iova: iova))
        }
        let output = (UInt64(pte) << shift) & ~(size - 1)
        var prot: IOMMUProt = []
        if v5 {
            let bits = level == 1 ? (pte >> 4) & 3 : (pte >> 2) & 3
            if bits & 1 != 0 { prot.insert(.read) }
            if bits & 2 != 0 { prot.insert(.write) }
        } else {
            let ap0: UInt32 = level == 1 ? 1 << 10 : 1 << 4
            let ap2: UInt32 = level == 1 ? 1 << 15 : 1 << 9
            if pte & ap0 != 0 {
                prot.insert(.read)
                if pte & ap2 == 0 { prot.insert(.write) }
            }
        }
        if let fault = permissionFault(prot, access, level: level, iova: iova) { return .failure(fault) }
        return .success(WalkTranslation(phys: output | (iova & (size - 1)), size: size, level: level, prot: prot,
                                        pte: UInt64(pte)))
    }

    /// The Rockchip IOMMU's walk, from its RK_MMU_DTE_ADDR register as `rk_iommu_enable` programs it (a DTE-style
    /// value: v2 packs PA[39:32] into bits [11:4]). DTE and PTE: bit 0 valid; PTE bit 1 readable, bit 2 writable.
    /// Source: rockchip-iommu.c (`rk_dte_pt_address*`, `rk_mk_pte*`).
    public static func translateRockchip(memory: SimulatedMemory, dteAddr: UInt32, version: RockchipIOMMUVersion,
                                         coherent: Bool, iova: UInt64, access: WalkAccess) -> Result<WalkTranslation, WalkFault> {
        guard iova >> 32 == 0 else { return .failure(WalkFault(kind: .translation, level: 1, iova: iova)) }
        func address(_ e: UInt32) -> UInt64 {
            let e = UInt64(e)
            return version == .v1 ? e & 0xffff_f000 : ((e & 0xf0) << 32) | ((e & 0xf00) << 24) | (e & 0xffff_f000)
        }
        guard let dte = driverRead32(memory, address(dteAddr) &+ ((iova >> 22) << 2), coherent: coherent) else {
            return .failure(WalkFault(kind: .external, level: 1, iova: iova))
        }
        guard dte & 1 != 0 else { return .failure(WalkFault(kind: .translation, level: 1, iova: iova)) }
        guard let pte = driverRead32(memory, address(dte) &+ (((iova >> 12) & 0x3ff) << 2), coherent: coherent) else {
            return .failure(WalkFault(kind: .external, level: 2, iova: iova))
        }
        guard pte & 1 != 0 else { return .failure(WalkFault(kind: .translation, level: 2, iova: iova)) }
        var prot: IOMMUProt = []
        if pte & (1 << 1) != 0 { prot.insert(.read) }
        if pte & (1 << 2) != 0 { prot.insert(.write) }
        if let fault = permissionFault(prot, access, level: 2, iova: iova) { return .failure(fault) }
        return .success(WalkTranslation(phys: address(pte) | (iova & 0xfff), size: 1 << 12, level: 2, prot: prot,
                                        pte: UInt64(pte)))
    }
}
