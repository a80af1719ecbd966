// The driver model's C API: linux/device.h, platform_device.h.
import Glibc
import CKernel
import SwiommuBase
import SwiommuMemory
import SwiommuPlatform

@c(get_device)
public func abiGetDevice(_ dev: UnsafeMutablePointer<device>?) -> UnsafeMutablePointer<device>? {
    guard let dev, !isNullOrError(dev), let m = Machine.current else { return dev }
    m.drivers.getDevice(dev)
    return dev
}

@c(put_device)
public func abiPutDevice(_ dev: UnsafeMutablePointer<device>?) {
    guard let dev, !isNullOrError(dev), let m = Machine.current else { return }
    m.drivers.putDevice(dev)
}

@c(device_is_bound)
public func abiDeviceIsBound(_ dev: UnsafeMutablePointer<device>?) -> Bool {
    guard let dev, !isNullOrError(dev) else { return false }
    return dev.pointee.driver != nil
}

@c(devm_kmalloc)
public func abiDevmKmalloc(_ dev: UnsafeMutablePointer<device>?, _ size: size_t, _ gfp: gfp_t) -> UnsafeMutableRawPointer? {
    guard let m = machine("devm_kmalloc") else { return nil }
    guard let dev, !isNullOrError(dev) else {
        Kernel.warn("devm_kmalloc: NULL or ERR_PTR device")
        return nil
    }
    return m.drivers.devmKmalloc(dev, size: size, gfp: GFP(rawValue: gfp), site: currentSite)
}

@c(devm_kfree)
public func abiDevmKfree(_ dev: UnsafeMutablePointer<device>?, _ p: UnsafeRawPointer?) {
    guard let p, UInt(bitPattern: p) > 16, let m = machine("devm_kfree") else { return }
    guard let dev, !isNullOrError(dev) else {
        Kernel.warn("devm_kfree: NULL or ERR_PTR device")
        return
    }
    m.drivers.devmKfree(dev, p)
}

@c(devm_add_action)
public func abiDevmAddAction(_ dev: UnsafeMutablePointer<device>?,
                             _ action: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?,
                             _ data: UnsafeMutableRawPointer?) -> CInt {
    guard let m = machine("devm_add_action") else { return Errno.noDevice.negated }
    guard let dev, !isNullOrError(dev), let action else {
        Kernel.warn("devm_add_action: NULL device or action")
        return Errno.invalid.negated
    }
    m.drivers.devmAddAction(dev, action, data)
    return 0
}

@c(devm_remove_action)
public func abiDevmRemoveAction(_ dev: UnsafeMutablePointer<device>?,
                                _ action: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?,
                                _ data: UnsafeMutableRawPointer?) {
    guard let m = machine("devm_remove_action") else { return }
    guard let dev, !isNullOrError(dev), let action, m.drivers.devmRemoveAction(dev, action, data) else {
        Kernel.warn("devm_remove_action: no such action registered")
        return
    }
}

// MARK: Drivers

@c(__platform_driver_register)
public func abiPlatformDriverRegister(_ drv: UnsafeMutablePointer<platform_driver>?, _ owner: UnsafeMutablePointer<module>?) -> CInt {
    guard let m = machine("platform_driver_register") else { return Errno.noDevice.negated }
    guard let drv, !isNullOrError(drv) else {
        Kernel.warn("platform_driver_register: NULL or ERR_PTR driver")
        return Errno.invalid.negated
    }
    return m.drivers.registerDriver(drv)?.negated ?? 0
}

@c(platform_driver_unregister)
public func abiPlatformDriverUnregister(_ drv: UnsafeMutablePointer<platform_driver>?) {
    guard let drv, !isNullOrError(drv), let m = machine("platform_driver_unregister") else { return }
    m.drivers.unregisterDriver(drv)
}

// MARK: Resources

@c(platform_get_resource)
public func abiPlatformGetResource(_ pdev: UnsafeMutablePointer<platform_device>?, _ type: CUnsignedInt,
                                   _ num: CUnsignedInt) -> UnsafeMutablePointer<resource>? {
    guard let pdev, !isNullOrError(pdev), let res = pdev.pointee.resource else { return nil }
    var seen: CUnsignedInt = 0
    for i in 0..<Int(pdev.pointee.num_resources) where UInt32(res[i].flags) & UInt32(IORESOURCE_TYPE_BITS) == type {
        if seen == num { return res + i }
        seen += 1
    }
    return nil
}

@c(platform_get_irq_optional)
public func abiPlatformGetIrqOptional(_ pdev: UnsafeMutablePointer<platform_device>?, _ num: CUnsignedInt) -> CInt {
    guard let pdev, !isNullOrError(pdev) else { return Errno.noDeviceOrAddress.negated }
    return withMachine("platform_get_irq", Errno.noDevice.negated) { $0.drivers.interrupt(pdev, index: Int(num)) }
}

@c(platform_get_irq)
public func abiPlatformGetIrq(_ pdev: UnsafeMutablePointer<platform_device>?, _ num: CUnsignedInt) -> CInt {
    let ret = abiPlatformGetIrqOptional(pdev, num)
    if ret < 0, let pdev, !isNullOrError(pdev) {
        let name = String(cString: pdev.pointee.dev.kobj.name)
        let driver = pdev.pointee.dev.driver.flatMap { $0.pointee.name.map { String(cString: $0) } } ?? "platform"
        Kernel.log(.error, driver: driver, device: name, "IRQ index \(num) not found")
    }
    return ret
}

@c(platform_irq_count)
public func abiPlatformIrqCount(_ pdev: UnsafeMutablePointer<platform_device>?) -> CInt {
    var n: CUnsignedInt = 0
    while abiPlatformGetIrqOptional(pdev, n) > 0 { n += 1 }
    return CInt(n)
}

// MARK: Devices made by code

@c(platform_device_alloc)
public func abiPlatformDeviceAlloc(_ name: UnsafePointer<CChar>?, _ id: CInt) -> UnsafeMutablePointer<platform_device>? {
    guard let m = machine("platform_device_alloc") else { return nil }
    guard let name else {
        Kernel.warn("platform_device_alloc: NULL name")
        return nil
    }
    return m.drivers.allocateDevice(name: String(cString: name), id: id, byAPI: true)
}

@c(platform_device_add_resources)
public func abiPlatformDeviceAddResources(_ pdev: UnsafeMutablePointer<platform_device>?,
                                          _ res: UnsafePointer<resource>?, _ num: CUnsignedInt) -> CInt {
    guard let pdev, !isNullOrError(pdev), let m = machine("platform_device_add_resources") else {
        return Errno.invalid.negated
    }
    return m.drivers.setResources(pdev, res, count: Int(num))?.negated ?? 0
}

@c(platform_device_add_data)
public func abiPlatformDeviceAddData(_ pdev: UnsafeMutablePointer<platform_device>?, _ data: UnsafeRawPointer?,
                                     _ size: size_t) -> CInt {
    guard let pdev, !isNullOrError(pdev), let m = machine("platform_device_add_data") else {
        return Errno.invalid.negated
    }
    return m.drivers.setPlatformData(pdev, data, size: size)?.negated ?? 0
}

@c(platform_device_add)
public func abiPlatformDeviceAdd(_ pdev: UnsafeMutablePointer<platform_device>?) -> CInt {
    guard let m = machine("platform_device_add") else { return Errno.noDevice.negated }
    guard let pdev, !isNullOrError(pdev) else { return Errno.invalid.negated }
    return m.drivers.addDevice(pdev)?.negated ?? 0
}

@c(platform_device_del)
public func abiPlatformDeviceDel(_ pdev: UnsafeMutablePointer<platform_device>?) {
    guard let pdev, !isNullOrError(pdev), let m = machine("platform_device_del") else { return }
    m.drivers.deleteDevice(pdev)
}

@c(platform_device_put)
public func abiPlatformDevicePut(_ pdev: UnsafeMutablePointer<platform_device>?) {
    guard let pdev, !isNullOrError(pdev), let m = machine("platform_device_put") else { return }
    m.drivers.putDevice(pdev.device)
}

@c(platform_device_register)
public func abiPlatformDeviceRegister(_ pdev: UnsafeMutablePointer<platform_device>?) -> CInt {
    abiPlatformDeviceAdd(pdev)
}

@c(platform_device_unregister)
public func abiPlatformDeviceUnregister(_ pdev: UnsafeMutablePointer<platform_device>?) {
    guard let pdev, !isNullOrError(pdev) else { return }
    abiPlatformDeviceDel(pdev)
    abiPlatformDevicePut(pdev)
}

@c(platform_device_register_simple)
public func abiPlatformDeviceRegisterSimple(_ name: UnsafePointer<CChar>?, _ id: CInt, _ res: UnsafePointer<resource>?,
                                            _ num: CUnsignedInt) -> UnsafeMutablePointer<platform_device>? {
    guard Machine.current != nil else {
        notBooted("platform_device_register_simple")
        return errorPointer(.noDevice)
    }
    guard let pdev = abiPlatformDeviceAlloc(name, id) else { return errorPointer(.noMemory) }
    var ret = abiPlatformDeviceAddResources(pdev, res, num)
    if ret == 0 { ret = abiPlatformDeviceAdd(pdev) }
    if ret != 0 {
        abiPlatformDevicePut(pdev)
        return UnsafeMutablePointer(bitPattern: Int(ret))
    }
    return pdev
}
