/* SPDX-License-Identifier: MIT */
/* How the Swift core sees the exported C structs, so a C compiler's layout can be checked against it. */
#ifndef _SWIOMMU_LAYOUT_H
#define _SWIOMMU_LAYOUT_H

/**
 * swiommu_layout_sizeof() - the size of an exported struct as the Swift core imported it.
 * @type: the struct's C name without "struct " ("page", "device", "platform_device" ...).
 *
 * Return: the size in bytes, or -ENOENT for a type the table does not list.
 */
long swiommu_layout_sizeof(const char *type);

/**
 * swiommu_layout_offsetof() - the offset of a member as the Swift core imported it.
 * @type: the struct's C name.
 * @member: the member (bitfields are not listed).
 *
 * Return: the offset in bytes, or -ENOENT for a type or member the table does not list.
 */
long swiommu_layout_offsetof(const char *type, const char *member);

#endif /* _SWIOMMU_LAYOUT_H */
