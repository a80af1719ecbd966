/* SPDX-License-Identifier: MIT */
/* Mirrors the Linux 6.17 <linux/list.h> for swiommu: circular doubly linked lists (list_head) and hash lists (hlist). */
#ifndef _LINUX_LIST_H
#define _LINUX_LIST_H

#include <stddef.h>
#include <linux/types.h>
#include <linux/compiler.h>
#include <linux/const.h>
#include <linux/poison.h>
#include <linux/container_of.h>

/*
 * A list is a struct list_head "head" embedded somewhere, linked in a circle
 * with the list_head members embedded in the entries.  An empty list is a
 * head whose next and prev point to itself.  None of this locks anything.
 *
 * The kernel's CONFIG_DEBUG_LIST / CONFIG_LIST_HARDENED corruption checks
 * are not modelled; list_del() does poison the links (LIST_POISON1/2).
 * Parameters are never called "new" so the header also parses as C++.
 */

#define LIST_HEAD_INIT(name) { &(name), &(name) }

#define LIST_HEAD(name) \
	struct list_head name = LIST_HEAD_INIT(name)

/* INIT_LIST_HEAD - make @list an empty list (points to itself). */
static inline void INIT_LIST_HEAD(struct list_head *list)
{
	WRITE_ONCE(list->next, list);
	WRITE_ONCE(list->prev, list);
}

/* Link @entry between the adjacent entries @prev and @next. */
static inline void __list_add(struct list_head *entry,
			      struct list_head *prev,
			      struct list_head *next)
{
	next->prev = entry;
	entry->next = next;
	entry->prev = prev;
	WRITE_ONCE(prev->next, entry);
}

/* list_add - insert @entry right after @head (stack order). */
static inline void list_add(struct list_head *entry, struct list_head *head)
{
	__list_add(entry, head, head->next);
}

/* list_add_tail - insert @entry right before @head, i.e. at the tail (queue order). */
static inline void list_add_tail(struct list_head *entry, struct list_head *head)
{
	__list_add(entry, head->prev, head);
}

/* Make @prev and @next adjacent, unlinking whatever was between them. */
static inline void __list_del(struct list_head *prev, struct list_head *next)
{
	next->prev = prev;
	WRITE_ONCE(prev->next, next);
}

/* Unlink @entry and set its prev to NULL (callers test prev, not list_empty()). */
static inline void __list_del_clearprev(struct list_head *entry)
{
	__list_del(entry->prev, entry->next);
	entry->prev = NULL;
}

/* Unlink @entry, leaving its own links as they were. */
static inline void __list_del_entry(struct list_head *entry)
{
	__list_del(entry->prev, entry->next);
}

/*
 * list_del - unlink @entry from its list.  Its links are poisoned afterwards,
 * so list_empty(entry) is not meaningful until it is re-initialised.
 */
static inline void list_del(struct list_head *entry)
{
	__list_del_entry(entry);
	entry->next = (struct list_head *)LIST_POISON1;
	entry->prev = (struct list_head *)LIST_POISON2;
}

/* list_replace - put @entry where @old is (@old's links are left stale). */
static inline void list_replace(struct list_head *old, struct list_head *entry)
{
	entry->next = old->next;
	entry->next->prev = entry;
	entry->prev = old->prev;
	entry->prev->next = entry;
}

/* list_replace_init - list_replace(), then make @old an empty list. */
static inline void list_replace_init(struct list_head *old, struct list_head *entry)
{
	list_replace(old, entry);
	INIT_LIST_HEAD(old);
}

/* list_swap - exchange the positions of @entry1 and @entry2. */
static inline void list_swap(struct list_head *entry1, struct list_head *entry2)
{
	struct list_head *pos = entry2->prev;

	list_del(entry2);
	list_replace(entry1, entry2);
	if (pos == entry1)
		pos = entry2;
	list_add(entry1, pos);
}

/* list_del_init - unlink @entry and make it an empty list. */
static inline void list_del_init(struct list_head *entry)
{
	__list_del_entry(entry);
	INIT_LIST_HEAD(entry);
}

/* list_move - unlink @list and re-insert it right after @head. */
static inline void list_move(struct list_head *list, struct list_head *head)
{
	__list_del_entry(list);
	list_add(list, head);
}

/* list_move_tail - unlink @list and re-insert it right before @head. */
static inline void list_move_tail(struct list_head *list, struct list_head *head)
{
	__list_del_entry(list);
	list_add_tail(list, head);
}

/*
 * list_bulk_move_tail - move the run @first..@last (inclusive, same list as
 * @head) to just before @head.
 */
static inline void list_bulk_move_tail(struct list_head *head,
				       struct list_head *first,
				       struct list_head *last)
{
	first->prev->next = last->next;
	last->next->prev = first->prev;

	head->prev->next = first;
	first->prev = head->prev;

	last->next = head;
	head->prev = last;
}

/* list_is_first - is @list the first entry of @head? */
static inline int list_is_first(const struct list_head *list, const struct list_head *head)
{
	return list->prev == head;
}

/* list_is_last - is @list the last entry of @head? */
static inline int list_is_last(const struct list_head *list, const struct list_head *head)
{
	return list->next == head;
}

/* list_is_head - is @list the head @head itself? */
static inline int list_is_head(const struct list_head *list, const struct list_head *head)
{
	return list == head;
}

/* list_empty - does @head have no entries? */
static inline int list_empty(const struct list_head *head)
{
	return READ_ONCE(head->next) == head;
}

/*
 * list_del_init_careful - list_del_init() whose final store is a release, to
 * pair with list_empty_careful() on another thread.
 */
static inline void list_del_init_careful(struct list_head *entry)
{
	__list_del_entry(entry);
	WRITE_ONCE(entry->prev, entry);
	__atomic_store_n(&entry->next, entry, __ATOMIC_RELEASE);
}

/*
 * list_empty_careful - list_empty() that also checks prev, for lockless
 * callers racing only with list_del_init_careful().
 */
static inline int list_empty_careful(const struct list_head *head)
{
	struct list_head *next = __atomic_load_n(&head->next, __ATOMIC_ACQUIRE);

	return list_is_head(next, head) && (next == READ_ONCE(head->prev));
}

/* list_rotate_left - move the first entry of @head to the tail. */
static inline void list_rotate_left(struct list_head *head)
{
	if (!list_empty(head))
		list_move_tail(head->next, head);
}

/* list_rotate_to_front - rotate the list so that @list becomes its first entry. */
static inline void list_rotate_to_front(struct list_head *list, struct list_head *head)
{
	/* Moving the head to just before @list makes @list follow the head. */
	list_move_tail(head, list);
}

/* list_is_singular - does @head have exactly one entry? */
static inline int list_is_singular(const struct list_head *head)
{
	return !list_empty(head) && (head->next == head->prev);
}

static inline void __list_cut_position(struct list_head *list,
				       struct list_head *head,
				       struct list_head *entry)
{
	struct list_head *new_first = entry->next;

	list->next = head->next;
	list->next->prev = list;
	list->prev = entry;
	entry->next = list;
	head->next = new_first;
	new_first->prev = head;
}

/*
 * list_cut_position - move the entries of @head up to and including @entry
 * onto @list (whose old contents are discarded).  @entry == @head moves
 * nothing and just initialises @list.
 */
static inline void list_cut_position(struct list_head *list,
				     struct list_head *head,
				     struct list_head *entry)
{
	if (list_empty(head))
		return;
	if (list_is_singular(head) && !list_is_head(entry, head) && (entry != head->next))
		return;
	if (list_is_head(entry, head))
		INIT_LIST_HEAD(list);
	else
		__list_cut_position(list, head, entry);
}

/*
 * list_cut_before - move the entries of @head before (excluding) @entry onto
 * @list (whose old contents are discarded); @entry == @head moves them all.
 */
static inline void list_cut_before(struct list_head *list,
				   struct list_head *head,
				   struct list_head *entry)
{
	if (head->next == entry) {
		INIT_LIST_HEAD(list);
		return;
	}
	list->next = head->next;
	list->next->prev = list;
	list->prev = entry->prev;
	list->prev->next = list;
	head->next = entry;
	entry->prev = head;
}

/* Insert the (non-empty) entries of @list between @prev and @next. */
static inline void __list_splice(const struct list_head *list,
				 struct list_head *prev,
				 struct list_head *next)
{
	struct list_head *first = list->next;
	struct list_head *last = list->prev;

	first->prev = prev;
	prev->next = first;

	last->next = next;
	next->prev = last;
}

/* list_splice - insert the entries of @list at the front of @head (@list is left stale). */
static inline void list_splice(const struct list_head *list, struct list_head *head)
{
	if (!list_empty(list))
		__list_splice(list, head, head->next);
}

/* list_splice_tail - insert the entries of @list at the tail of @head (@list is left stale). */
static inline void list_splice_tail(struct list_head *list, struct list_head *head)
{
	if (!list_empty(list))
		__list_splice(list, head->prev, head);
}

/* list_splice_init - list_splice(), then make @list empty. */
static inline void list_splice_init(struct list_head *list, struct list_head *head)
{
	if (!list_empty(list)) {
		__list_splice(list, head, head->next);
		INIT_LIST_HEAD(list);
	}
}

/* list_splice_tail_init - list_splice_tail(), then make @list empty. */
static inline void list_splice_tail_init(struct list_head *list, struct list_head *head)
{
	if (!list_empty(list)) {
		__list_splice(list, head->prev, head);
		INIT_LIST_HEAD(list);
	}
}

/* list_entry - the struct @type containing the list_head @ptr as member @member. */
#define list_entry(ptr, type, member) \
	container_of(ptr, type, member)

/* list_first_entry - the first entry of the non-empty list @ptr. */
#define list_first_entry(ptr, type, member) \
	list_entry((ptr)->next, type, member)

/* list_last_entry - the last entry of the non-empty list @ptr. */
#define list_last_entry(ptr, type, member) \
	list_entry((ptr)->prev, type, member)

#define __list_first_entry_or_null(ptr, type, member, h, p) ({		\
	struct list_head *h = (ptr);					\
	struct list_head *p = READ_ONCE(h->next);			\
	p != h ? list_entry(p, type, member) : NULL;			\
})

/* list_first_entry_or_null - the first entry of @ptr, or NULL if it is empty. */
#define list_first_entry_or_null(ptr, type, member) \
	__list_first_entry_or_null(ptr, type, member, __UNIQUE_ID(head_), __UNIQUE_ID(pos_))

/*
 * The list_head member @member of the entry cursor @pos, computed with
 * integer address arithmetic rather than "&pos->member".  When a cursor
 * stands on the head (after the last entry of a loop, on an empty list, or
 * from list_prepare_entry(NULL, ...)) it is a fake entry pointer around the
 * head; a member access through it is what UBSan and gcc -Warray-bounds
 * object to, while the address computed here is simply the real head.
 */
#define __list_entry_member(pos, member) \
	((struct list_head *)((unsigned long)(pos) + offsetof(__typeof__(*(pos)), member)))

/* list_next_entry / list_prev_entry - the entry after / before @pos. */
#define list_next_entry(pos, member) \
	list_entry(__list_entry_member(pos, member)->next, __typeof__(*(pos)), member)
#define list_prev_entry(pos, member) \
	list_entry(__list_entry_member(pos, member)->prev, __typeof__(*(pos)), member)

/* As list_next_entry/list_prev_entry, but wrapping around past the head. */
#define list_next_entry_circular(pos, head, member)			\
	(list_is_last(&(pos)->member, head) ?				\
	 list_first_entry(head, __typeof__(*(pos)), member) :		\
	 list_next_entry(pos, member))
#define list_prev_entry_circular(pos, head, member)			\
	(list_is_first(&(pos)->member, head) ?				\
	 list_last_entry(head, __typeof__(*(pos)), member) :		\
	 list_prev_entry(pos, member))

/* list_for_each - iterate @pos (a struct list_head *) over @head. */
#define list_for_each(pos, head) \
	for (pos = (head)->next; !list_is_head(pos, (head)); pos = pos->next)

/* list_for_each_continue - continue after the current @pos. */
#define list_for_each_continue(pos, head) \
	for (pos = pos->next; !list_is_head(pos, (head)); pos = pos->next)

/* list_for_each_prev - iterate backwards. */
#define list_for_each_prev(pos, head) \
	for (pos = (head)->prev; !list_is_head(pos, (head)); pos = pos->prev)

/* list_for_each_safe - iterate, allowing list_del(pos); @n is scratch. */
#define list_for_each_safe(pos, n, head)				\
	for (pos = (head)->next, n = pos->next;				\
	     !list_is_head(pos, (head));				\
	     pos = n, n = pos->next)

/* list_for_each_prev_safe - backwards, allowing list_del(pos). */
#define list_for_each_prev_safe(pos, n, head)				\
	for (pos = (head)->prev, n = pos->prev;				\
	     !list_is_head(pos, (head));				\
	     pos = n, n = pos->prev)

/* list_count_nodes - number of entries in @head (O(n)). */
static inline size_t list_count_nodes(struct list_head *head)
{
	struct list_head *pos;
	size_t count = 0;

	list_for_each(pos, head)
		count++;

	return count;
}

/* list_entry_is_head - has the entry cursor @pos wrapped round to @head? */
#define list_entry_is_head(pos, head, member) \
	list_is_head(__list_entry_member(pos, member), (head))

/* list_for_each_entry - iterate the entry cursor @pos over @head. */
#define list_for_each_entry(pos, head, member)				\
	for (pos = list_first_entry(head, __typeof__(*pos), member);	\
	     !list_entry_is_head(pos, head, member);			\
	     pos = list_next_entry(pos, member))

/* list_for_each_entry_reverse - iterate entries backwards. */
#define list_for_each_entry_reverse(pos, head, member)			\
	for (pos = list_last_entry(head, __typeof__(*pos), member);	\
	     !list_entry_is_head(pos, head, member);			\
	     pos = list_prev_entry(pos, member))

/*
 * list_prepare_entry - @pos if non-NULL, else a cursor at @head, ready for
 * list_for_each_entry_continue().
 */
#define list_prepare_entry(pos, head, member) \
	((pos) ? : list_entry(head, __typeof__(*pos), member))

/* list_for_each_entry_continue - iterate entries after the current @pos. */
#define list_for_each_entry_continue(pos, head, member)			\
	for (pos = list_next_entry(pos, member);			\
	     !list_entry_is_head(pos, head, member);			\
	     pos = list_next_entry(pos, member))

/* list_for_each_entry_continue_reverse - iterate entries before the current @pos, backwards. */
#define list_for_each_entry_continue_reverse(pos, head, member)		\
	for (pos = list_prev_entry(pos, member);			\
	     !list_entry_is_head(pos, head, member);			\
	     pos = list_prev_entry(pos, member))

/* list_for_each_entry_from - iterate entries starting at the current @pos. */
#define list_for_each_entry_from(pos, head, member)			\
	for (; !list_entry_is_head(pos, head, member);			\
	     pos = list_next_entry(pos, member))

/* list_for_each_entry_from_reverse - iterate backwards starting at the current @pos. */
#define list_for_each_entry_from_reverse(pos, head, member)		\
	for (; !list_entry_is_head(pos, head, member);			\
	     pos = list_prev_entry(pos, member))

/* list_for_each_entry_safe - iterate entries, allowing removal of @pos; @n is scratch. */
#define list_for_each_entry_safe(pos, n, head, member)			\
	for (pos = list_first_entry(head, __typeof__(*pos), member),	\
		n = list_next_entry(pos, member);			\
	     !list_entry_is_head(pos, head, member);			\
	     pos = n, n = list_next_entry(n, member))

/* list_for_each_entry_safe_continue - as _safe, after the current @pos. */
#define list_for_each_entry_safe_continue(pos, n, head, member)		\
	for (pos = list_next_entry(pos, member),			\
		n = list_next_entry(pos, member);			\
	     !list_entry_is_head(pos, head, member);			\
	     pos = n, n = list_next_entry(n, member))

/* list_for_each_entry_safe_from - as _safe, starting at the current @pos. */
#define list_for_each_entry_safe_from(pos, n, head, member)		\
	for (n = list_next_entry(pos, member);				\
	     !list_entry_is_head(pos, head, member);			\
	     pos = n, n = list_next_entry(n, member))

/* list_for_each_entry_safe_reverse - as _safe, backwards. */
#define list_for_each_entry_safe_reverse(pos, n, head, member)		\
	for (pos = list_last_entry(head, __typeof__(*pos), member),	\
		n = list_prev_entry(pos, member);			\
	     !list_entry_is_head(pos, head, member);			\
	     pos = n, n = list_prev_entry(n, member))

/* list_safe_reset_next - recompute the _safe cursor @n after the list changed. */
#define list_safe_reset_next(pos, n, member) \
	n = list_next_entry(pos, member)

/* ------------------------------------------------------------------------
 * hlist: lists with a single-pointer head, for hash tables.  Not circular:
 * the last node's next is NULL, and each node's pprev points at the
 * pointer that points to it (the head's first or the previous node's next).
 * ------------------------------------------------------------------------ */

#define HLIST_HEAD_INIT { .first = NULL }
#define HLIST_HEAD(name) struct hlist_head name = { .first = NULL }
#define INIT_HLIST_HEAD(ptr) ((ptr)->first = NULL)

static inline void INIT_HLIST_NODE(struct hlist_node *h)
{
	h->next = NULL;
	h->pprev = NULL;
}

/* hlist_unhashed - is @h on no list (pprev NULL)? */
static inline int hlist_unhashed(const struct hlist_node *h)
{
	return !h->pprev;
}

/* hlist_unhashed_lockless - hlist_unhashed() with a single untorn read. */
static inline int hlist_unhashed_lockless(const struct hlist_node *h)
{
	return !READ_ONCE(h->pprev);
}

/* hlist_empty - does @h have no nodes? */
static inline int hlist_empty(const struct hlist_head *h)
{
	return !READ_ONCE(h->first);
}

static inline void __hlist_del(struct hlist_node *n)
{
	struct hlist_node *next = n->next;
	struct hlist_node **pprev = n->pprev;

	WRITE_ONCE(*pprev, next);
	if (next)
		WRITE_ONCE(next->pprev, pprev);
}

/* hlist_del - unlink @n; its links are poisoned (it is not "unhashed"). */
static inline void hlist_del(struct hlist_node *n)
{
	__hlist_del(n);
	n->next = (struct hlist_node *)LIST_POISON1;
	n->pprev = (struct hlist_node **)LIST_POISON2;
}

/* hlist_del_init - unlink @n if it is on a list and leave it unhashed. */
static inline void hlist_del_init(struct hlist_node *n)
{
	if (!hlist_unhashed(n)) {
		__hlist_del(n);
		INIT_HLIST_NODE(n);
	}
}

/* hlist_add_head - insert @n at the front of @h. */
static inline void hlist_add_head(struct hlist_node *n, struct hlist_head *h)
{
	struct hlist_node *first = h->first;

	WRITE_ONCE(n->next, first);
	if (first)
		WRITE_ONCE(first->pprev, &n->next);
	WRITE_ONCE(h->first, n);
	WRITE_ONCE(n->pprev, &h->first);
}

/* hlist_add_before - insert @n just before the node @next. */
static inline void hlist_add_before(struct hlist_node *n, struct hlist_node *next)
{
	WRITE_ONCE(n->pprev, next->pprev);
	WRITE_ONCE(n->next, next);
	WRITE_ONCE(next->pprev, &n->next);
	WRITE_ONCE(*(n->pprev), n);
}

/* hlist_add_behind - insert @n just after the node @prev. */
static inline void hlist_add_behind(struct hlist_node *n, struct hlist_node *prev)
{
	WRITE_ONCE(n->next, prev->next);
	WRITE_ONCE(prev->next, n);
	WRITE_ONCE(n->pprev, &prev->next);

	if (n->next)
		WRITE_ONCE(n->next->pprev, &n->next);
}

/* hlist_add_fake - make @n look hashed on a list of its own (so hlist_del() works). */
static inline void hlist_add_fake(struct hlist_node *n)
{
	n->pprev = &n->next;
}

/* hlist_fake - was @h set up by hlist_add_fake()? */
static inline bool hlist_fake(struct hlist_node *h)
{
	return h->pprev == &h->next;
}

/* hlist_is_singular_node - is @n the only node of @h (checked without reading @h)? */
static inline bool hlist_is_singular_node(struct hlist_node *n, struct hlist_head *h)
{
	return !n->next && n->pprev == &h->first;
}

/* hlist_move_list - move all nodes of @old to @to_head; @old becomes empty. */
static inline void hlist_move_list(struct hlist_head *old, struct hlist_head *to_head)
{
	to_head->first = old->first;
	if (to_head->first)
		to_head->first->pprev = &to_head->first;
	old->first = NULL;
}

/*
 * hlist_splice_init - move all nodes of @from (whose last node is @last) to
 * the front of @to; @from becomes empty.
 */
static inline void hlist_splice_init(struct hlist_head *from,
				     struct hlist_node *last,
				     struct hlist_head *to)
{
	if (to->first)
		to->first->pprev = &last->next;
	last->next = to->first;
	to->first = from->first;
	from->first->pprev = &to->first;
	from->first = NULL;
}

#define hlist_entry(ptr, type, member) container_of(ptr, type, member)

#define hlist_for_each(pos, head) \
	for (pos = (head)->first; pos; pos = pos->next)

#define hlist_for_each_safe(pos, n, head)				\
	for (pos = (head)->first; pos && ({ n = pos->next; 1; });	\
	     pos = n)

#define __hlist_entry_safe(ptr, type, member, p) ({			\
	__typeof__(ptr) p = (ptr);					\
	p ? hlist_entry(p, type, member) : NULL;			\
})

/* hlist_entry_safe - hlist_entry(), or NULL for a NULL @ptr. */
#define hlist_entry_safe(ptr, type, member) \
	__hlist_entry_safe(ptr, type, member, __UNIQUE_ID(ptr_))

/* hlist_for_each_entry - iterate the entry cursor @pos over @head. */
#define hlist_for_each_entry(pos, head, member)				\
	for (pos = hlist_entry_safe((head)->first, __typeof__(*(pos)), member); \
	     pos;							\
	     pos = hlist_entry_safe((pos)->member.next, __typeof__(*(pos)), member))

/* hlist_for_each_entry_continue - iterate entries after the current @pos. */
#define hlist_for_each_entry_continue(pos, member)			\
	for (pos = hlist_entry_safe((pos)->member.next, __typeof__(*(pos)), member); \
	     pos;							\
	     pos = hlist_entry_safe((pos)->member.next, __typeof__(*(pos)), member))

/* hlist_for_each_entry_from - iterate entries starting at the current @pos. */
#define hlist_for_each_entry_from(pos, member)				\
	for (; pos;							\
	     pos = hlist_entry_safe((pos)->member.next, __typeof__(*(pos)), member))

/*
 * hlist_for_each_entry_safe - iterate entries, allowing removal of @pos;
 * @n is a struct hlist_node * scratch cursor.
 */
#define hlist_for_each_entry_safe(pos, n, head, member)			\
	for (pos = hlist_entry_safe((head)->first, __typeof__(*pos), member); \
	     pos && ({ n = pos->member.next; 1; });			\
	     pos = hlist_entry_safe(n, __typeof__(*pos), member))

/* hlist_count_nodes - number of nodes in @head (O(n)). */
static inline size_t hlist_count_nodes(struct hlist_head *head)
{
	struct hlist_node *pos;
	size_t count = 0;

	hlist_for_each(pos, head)
		count++;

	return count;
}

#endif /* _LINUX_LIST_H */
