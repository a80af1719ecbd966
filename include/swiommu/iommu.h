/* SPDX-License-Identifier: MIT */
/* swiommu's extensions to the IOMMU core. */
#ifndef _SWIOMMU_IOMMU_H
#define _SWIOMMU_IOMMU_H

/**
 * swiommu_iommu_set_default_domain_policy() - how groups set up from now on get their default domain:
 * "per-group" (one each: the kernel's), "per-instance" (groups on one IOMMU instance share one) or
 * "global" (every group of a driver shares one). A board sets it at boot with /chosen
 * "swiommu,iommu-policy". A driver that refuses a shared domain at attach gets the group its own.
 * @policy: the policy's name.
 *
 * Return: 0, -EINVAL for another name (with a message), or -ENODEV when the machine is down.
 */
int swiommu_iommu_set_default_domain_policy(const char *policy);

/**
 * swiommu_iommu_default_domain_policy() - the policy in force.
 *
 * Return: "per-group", "per-instance" or "global"; NULL when the machine is down.
 */
const char *swiommu_iommu_default_domain_policy(void);

#endif /* _SWIOMMU_IOMMU_H */
