// swift-tools-version:6.0
// swiommu: a software model of the Linux IOMMU and DMA-mapping subsystems.
// This file is the single source of truth for the Swift targets; CMake drives it.
import PackageDescription

// Keep implicit module imports out of the library (they add unused NEEDED entries).
let lean: [SwiftSetting] = [
    .unsafeFlags([
        "-Xfrontend", "-disable-implicit-concurrency-module-import",
        "-Xfrontend", "-disable-implicit-string-processing-module-import",
        // Hot paths touch class-owned state on every call; static exclusivity checking stays on.
        "-enforce-exclusivity=unchecked",
        // DWARF 4: Debian 12's valgrind (3.19) gives up on the DWARF 5 forms LLVM emits (strx1, addrx), so a
        // suite linking libswiommu.so could not run under memcheck.
        "-dwarf-version=4",
    ]),
]

// The ABI layer also writes the Swift-generated C header, which the ABI drift test compiles together
// with include/ under clang -Werror.
let abiHeader: [SwiftSetting] = [
    .unsafeFlags(["-emit-clang-header-path", Context.packageDirectory + "/.build/swiommu-Swift.h"]),
]

let package = Package(
    name: "swiommu",
    products: [
        // libswiommu.so: the C ABI that driver prototypes and cmocka suites link.
        .library(name: "swiommu", type: .dynamic, targets: ["Swiommu"]),
        // libswiommu_static.a: installed as libswiommu.a.
        .library(name: "swiommu_static", type: .static, targets: ["Swiommu"]),
        // The CLI; installed as `swiommu` (a product may not share the library's name).
        .executable(name: "swiommu-cli", targets: ["SwiommuCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // The public C headers (include/linux kernel-shaped, include/swiommu ours), as a Clang module.
        .target(name: "CKernel", path: "include", publicHeadersPath: "."),
        // libfdt, from Debian's libfdt-dev.
        .systemLibrary(name: "CLibFDT", path: "Sources/CLibFDT"),
        // C glue: what Swift cannot write (variadic printk, WARN records, initcalls, syscalls).
        .target(name: "CSwiommuGlue", dependencies: ["CKernel"], cSettings: [.unsafeFlags(["-gdwarf-4"])]),
        // Layers, bottom up. Each imports only the layers below it.
        .target(name: "SwiommuBase", dependencies: ["CKernel", "CSwiommuGlue"], swiftSettings: lean),
        .target(name: "SwiommuMemory", dependencies: ["SwiommuBase", "CKernel", "CSwiommuGlue"], swiftSettings: lean),
        .target(name: "SwiommuPlatform", dependencies: ["SwiommuMemory", "SwiommuBase", "CKernel", "CSwiommuGlue", "CLibFDT"],
                swiftSettings: lean),
        .target(name: "SwiommuIOVA", dependencies: ["SwiommuBase", "CKernel", "CSwiommuGlue"], swiftSettings: lean),
        .target(name: "SwiommuPageTable", dependencies: ["SwiommuMemory", "SwiommuBase", "CKernel", "CSwiommuGlue"], swiftSettings: lean),
        .target(name: "SwiommuIOMMU", dependencies: ["SwiommuPlatform", "SwiommuPageTable", "SwiommuMemory", "SwiommuBase",
                                                     "CKernel", "CSwiommuGlue"],
                swiftSettings: lean),
        // The DMA layer: the dispatcher (kernel/dma/mapping.c), dma-direct, swiotlb, dma-iommu, per-channel paths.
        .target(name: "SwiommuDMA", dependencies: ["SwiommuIOMMU", "SwiommuPlatform", "SwiommuPageTable", "SwiommuIOVA",
                                                   "SwiommuMemory", "SwiommuBase", "CKernel", "CSwiommuGlue"],
                swiftSettings: lean),
        // The ABI layer: @c exports with kernel names; converts and dispatches only.
        .target(name: "Swiommu", dependencies: ["SwiommuDMA", "SwiommuIOMMU", "SwiommuPlatform", "SwiommuPageTable", "SwiommuIOVA", "SwiommuMemory", "SwiommuBase",
                                                "CKernel", "CSwiommuGlue"], swiftSettings: lean + abiHeader),
        // The C driver prototypes of examples/drivers and their scenarios, which `swiommu demo` runs (CMake
        // compiles the same sources into their cmocka suites). Their module_platform_driver() constructors
        // register them, so in the CLI they bind at every boot: the IPMMU driver written in C then serves
        // the default board's IPMMUs in place of the built-in model.
        .target(name: "SwiommuExamples", dependencies: ["CKernel"], path: "examples",
                sources: ["drivers", "iommu/pgtable_domain.c"], publicHeadersPath: "drivers/include",
                cSettings: [.headerSearchPath("drivers"), .headerSearchPath("iommu")]),
        .executableTarget(name: "SwiommuCLI", dependencies: [
            "Swiommu", "SwiommuDMA", "SwiommuIOMMU", "SwiommuPlatform", "SwiommuMemory", "SwiommuBase", "SwiommuExamples",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "SwiommuBaseTests", dependencies: ["SwiommuBase"]),
        .testTarget(name: "SwiommuMemoryTests", dependencies: ["SwiommuMemory", "SwiommuBase"]),
        .testTarget(name: "SwiommuIOVATests", dependencies: ["SwiommuIOVA", "SwiommuBase"]),
        .testTarget(name: "SwiommuIOMMUTests", dependencies: ["SwiommuIOMMU", "SwiommuMemory", "SwiommuBase", "CKernel"]),
        .testTarget(name: "SwiommuDMATests", dependencies: ["SwiommuDMA", "SwiommuIOMMU", "SwiommuPlatform", "SwiommuMemory",
                                                          "SwiommuBase", "CKernel"]),
        .testTarget(name: "SwiommuPageTableTests", dependencies: ["SwiommuPageTable", "SwiommuMemory", "SwiommuBase", "CKernel"]),
        .testTarget(name: "SwiommuPlatformTests", dependencies: ["SwiommuPlatform", "SwiommuMemory", "SwiommuBase", "CKernel"]),
        .testTarget(name: "SwiommuTests", dependencies: ["Swiommu", "SwiommuPlatform", "SwiommuMemory", "SwiommuBase", "CKernel"]),
    ]
)
