/* SPDX-License-Identifier: MIT */
/* The device tree, mirroring the kernel's linux/of.h (Linux 6.17) for swiommu. */
#ifndef _LINUX_OF_H
#define _LINUX_OF_H

#include <linux/types.h>
#include <linux/mod_devicetable.h>

typedef u32 phandle;

/**
 * struct fwnode_handle - the firmware node embedded in a device tree node.
 * @secondary: unused.
 * @ops: unused.
 * @dev: the device made from this node, if any.
 */
struct fwnode_handle {
	struct fwnode_handle *secondary;
	const void *ops;
	struct device *dev;
};

/**
 * struct property - a device tree property; values are big-endian, as in the blob.
 * @name: its name.
 * @length: bytes of @value.
 * @value: the bytes.
 * @next: the node's next property.
 */
struct property {
	char *name;
	int length;
	void *value;
	struct property *next;
};

/**
 * struct device_node - a device tree node.
 * @name: node name without the unit address ("isp").
 * @phandle: its phandle, or 0.
 * @full_name: node name with the unit address ("isp@fe0a0000").
 * @fwnode: its firmware node.
 * @properties: first property.
 * @deadprops: unused.
 * @parent: parent node (NULL for the root).
 * @child: first child.
 * @sibling: next sibling.
 * @_flags: OF_* flags.
 * @data: owner's data.
 */
struct device_node {
	const char *name;
	phandle phandle;
	const char *full_name;
	struct fwnode_handle fwnode;
	struct property *properties;
	struct property *deadprops;
	struct device_node *parent;
	struct device_node *child;
	struct device_node *sibling;
	unsigned long _flags;
	void *data;
};

#define to_of_node(__fwnode) ((__fwnode) ? (struct device_node *)((char *)(__fwnode) - \
	__builtin_offsetof(struct device_node, fwnode)) : (struct device_node *)0)
#define of_fwnode_handle(node) ((node) ? &(node)->fwnode : (struct fwnode_handle *)0)

#define MAX_PHANDLE_ARGS 16

/**
 * struct of_phandle_args - one parsed phandle reference with its argument cells ("iommus" entries).
 * @np: the node the phandle names.
 * @args_count: how many cells follow it.
 * @args: the cells.
 */
struct of_phandle_args {
	struct device_node *np;
	int args_count;
	uint32_t args[MAX_PHANDLE_ARGS];
};

static inline const char *of_node_full_name(const struct device_node *np)
{
	return np ? np->full_name : "<no-node>";
}

static inline struct device_node *of_node_get(struct device_node *node) { return node; }
static inline void of_node_put(struct device_node *node) { (void)node; }

/**
 * of_find_node_by_path() - look a node up by its full path ("/soc/isp@fe0a0000").
 * @path: the path.
 *
 * Return: the node, or NULL.
 */
struct device_node *of_find_node_by_path(const char *path);

/**
 * of_get_parent() - the parent of a node.
 * @node: the node.
 *
 * Return: the parent, or NULL for the root or NULL.
 */
struct device_node *of_get_parent(const struct device_node *node);

/**
 * of_get_next_child() - iterate over the children of a node.
 * @node: the parent.
 * @prev: the previous child, or NULL for the first.
 *
 * Return: the next child, or NULL.
 */
struct device_node *of_get_next_child(const struct device_node *node, struct device_node *prev);
#define for_each_child_of_node(parent, child) \
	for (child = of_get_next_child(parent, NULL); child != NULL; child = of_get_next_child(parent, child))

/**
 * of_find_compatible_node() - the next node, in tree order after @from, with this compatible.
 * @from: where to start (NULL: the root).
 * @type: device_type to match, or NULL.
 * @compat: the compatible string.
 *
 * Return: the node, or NULL.
 */
struct device_node *of_find_compatible_node(struct device_node *from, const char *type, const char *compat);

/**
 * of_find_property() - a property of a node.
 * @np: the node.
 * @name: the property name.
 * @lenp: where to store its length, or NULL.
 *
 * Return: the property, or NULL.
 */
struct property *of_find_property(const struct device_node *np, const char *name, int *lenp);

/**
 * of_get_property() - the value of a property.
 * @node: the node.
 * @name: the property name.
 * @lenp: where to store its length, or NULL.
 *
 * Return: the big-endian bytes, or NULL.
 */
const void *of_get_property(const struct device_node *node, const char *name, int *lenp);

static inline bool of_property_read_bool(const struct device_node *np, const char *propname)
{
	return of_find_property(np, propname, (int *)0) != (struct property *)0;
}
#define of_property_present(np, name) of_property_read_bool(np, name)

/**
 * of_property_read_u32_index() - one cell of a u32 array property.
 * @np: the node.
 * @propname: the property.
 * @index: which cell.
 * @out_value: where to store it.
 *
 * Return: 0, -EINVAL when the property does not exist, or -EOVERFLOW when it is too short.
 */
int of_property_read_u32_index(const struct device_node *np, const char *propname, u32 index, u32 *out_value);

/**
 * of_property_read_u32_array() - the first @sz cells of a u32 array property.
 * @np: the node.
 * @propname: the property.
 * @out_values: where to store them.
 * @sz: how many.
 *
 * Return: 0, -EINVAL when the property does not exist, -ENODATA when it has no value, or -EOVERFLOW when
 * it is too short.
 */
int of_property_read_u32_array(const struct device_node *np, const char *propname, u32 *out_values, size_t sz);

static inline int of_property_read_u32(const struct device_node *np, const char *propname, u32 *out_value)
{
	return of_property_read_u32_array(np, propname, out_value, 1);
}

/**
 * of_property_read_u64() - a 64-bit property (two cells, high first).
 * @np: the node.
 * @propname: the property.
 * @out_value: where to store it.
 *
 * Return: 0, -EINVAL when the property does not exist, -ENODATA when it has no value, or -EOVERFLOW when
 * it is too short.
 */
int of_property_read_u64(const struct device_node *np, const char *propname, u64 *out_value);

/**
 * of_property_read_string() - a string property.
 * @np: the node.
 * @propname: the property.
 * @out_string: where to store a pointer to it.
 *
 * Return: 0, -EINVAL when the property does not exist, -ENODATA when it has no value, or -EILSEQ when it
 * is not NUL-terminated.
 */
int of_property_read_string(const struct device_node *np, const char *propname, const char **out_string);

/**
 * of_device_is_compatible() - how well a node matches a compatible string.
 * @device: the node.
 * @compat: the string.
 *
 * Return: 0 for no match, else a score that is higher for earlier (more specific) entries of the
 * node's compatible list.
 */
int of_device_is_compatible(const struct device_node *device, const char *compat);

/**
 * of_device_is_available() - whether a node's status is "okay" or "ok", or missing.
 * @device: the node.
 *
 * Return: true or false.
 */
bool of_device_is_available(const struct device_node *device);

/**
 * of_match_node() - the best entry of a match table for a node (the kernel's __of_match_node scoring).
 * @matches: the table, ended by an empty entry.
 * @node: the node.
 *
 * Return: the entry, or NULL.
 */
const struct of_device_id *of_match_node(const struct of_device_id *matches, const struct device_node *node);

static inline bool of_node_name_eq(const struct device_node *np, const char *name)
{
	const char *a = np ? np->name : (const char *)0;

	if (!a || !name)
		return false;
	while (*a && *a == *name) {
		a++;
		name++;
	}
	return *a == *name;
}

#endif /* _LINUX_OF_H */
