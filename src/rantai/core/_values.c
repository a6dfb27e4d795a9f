/* The ledger state's encoded values, in C: str keys -> bytes values at about a fifth of the
memory a dict of decoded objects takes.

An open-addressing hash table with linear probing over a power-of-two array of slots. A slot
is 8 bytes: the entry's address in its low 48 bits and the top 16 bits of the key's hash
above them (a tag, so that a probe reads an entry only on a likely match); 0 is empty. The
full hash is not kept: growing the array and shifting entries back after a delete hash their
keys again. At six million keys that halves the array (64 MiB, not 128) and its doubling
past 6,291,456 keys (to 128 MiB, not 256, beside the old one while moving). An entry is one
malloc: the key's UTF-8 length, the value's length, then the key's bytes and the value's
bytes. The table grows x2 past a load of 3/4; a delete frees its entry and shifts the run
behind it back (no tombstones), so lookups never wade through dead slots. The array does not
shrink.

The hash is fixed and unseeded (never Python's randomized str hash): the slots' layout, and
so the iteration order, depend only on the operations applied, never on the process. It
mixes the key eight bytes at a time (a multiply and a fold per word, as FNV-1a does per
byte) and ends with splitmix64's finalizer, so that keys sharing long prefixes still spread
over the low bits the slot index takes.

Keys are stored as UTF-8; a str with lone surrogates (which strict UTF-8 cannot encode) is
stored with "surrogatepass", which no other str encodes to, and decoded back the same way.

update is all or nothing: it checks every item, then allocates everything the batch needs
(a larger slot array, new entries), and only then changes the table, which cannot fail. If
an allocation fails the table keeps its contents (a grown array holds the same keys).

Serialized form (to_bytes, from_bytes), all integers fixed-width little-endian (fixed rather
than varints: a field decodes with one load and cannot run on, for ~6 B per entry more):
  header  "RVT\x00" (4 bytes), format version (u32, now 1), entry count (u64), lead (u64);
  entries one after another in the table's iteration order, each the key's length (u32), the
          value's length (u32), the key's UTF-8 bytes (surrogatepass, as stored) and the value.
"lead" is how many entries sit in the slots before the first empty one. from_bytes pre-sizes
the array for the count and inserts the entries after those first, then those: every run of
occupied slots is then rebuilt from its start, so a run that wraps past the array's end comes
back in the same slots, and the copy iterates in the stored order whenever its array is as
large as the original's (always, unless deletes left the original larger than its count
needs: the copy is then compacted, and iterates in its own deterministic order).

Threads: every method keeps the GIL from start to end and runs no Python code while it
changes the table, so each call is atomic with respect to other Python threads. An iterator
raises RuntimeError if the table's keys changed (an insert, a delete, a growth) since it was
made, as a dict's does.
*/

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

/* Capacity of the first slot array: 8 slots hold 6 keys. */
#define MIN_CAPACITY 8
/* Entry lengths are 32-bit: a key or value of 4 GiB is refused rather than truncated. */
#define LENGTH_LIMIT UINT32_MAX

typedef struct {
    uint32_t key_length;
    uint32_t value_length;
    char bytes[]; /* the key, then the value */
} Entry;

#define ENTRY_SIZE(key_length, value_length) \
    (offsetof(Entry, bytes) + (size_t)(key_length) + (size_t)(value_length))

/* 0: empty; else an entry's address (below 2^48, as user-space addresses are on the 64-bit
   machines CPython runs on; new_entry refuses any other) with the hash's tag above it. */
typedef uint64_t Slot;
#define ADDRESS_BITS 48
#define ADDRESS_MASK ((UINT64_C(1) << ADDRESS_BITS) - 1)
_Static_assert(sizeof(uintptr_t) <= sizeof(uint64_t), "an address fits in a slot");

typedef struct {
    PyObject_HEAD
    Slot *slots;
    size_t capacity; /* 0 (no array yet) or a power of two */
    size_t count;
    size_t entry_bytes; /* sum of the sizes malloc'ed for entries */
    uint64_t version;   /* bumped whenever the slots' layout changes; iterators check it */
    uint64_t generation; /* bumped by every update: a reader's decode saw no update if equal */
} Table;

typedef struct {
    PyObject_HEAD
    Table *table; /* NULL once exhausted */
    size_t position;
    uint64_t version;
} TableIterator;

/* What update does with one item, decided before the table changes. */
enum { ACT_NONE, ACT_DELETE, ACT_INSERT, ACT_REPLACE, ACT_SWAP, ACT_RESIZE };

/* One item of an update batch, its bytes borrowed from objects the call keeps alive. */
typedef struct {
    const char *key;
    const char *value; /* NULL: delete */
    size_t key_length;
    size_t value_length;
    uint64_t hash;
    Entry *found; /* the key's entry before the batch, if any */
    Entry *fresh; /* ACT_INSERT and ACT_SWAP: the entry to put in */
    PyObject *holder; /* the key's surrogatepass encoding, when made; owned */
    PyObject *key_object; /* the str key itself; borrowed */
    int action;
    int superseded; /* a later item of the batch has the same key */
} Item;

/* ---- hashing ---- */

/* Eight bytes, little-endian whatever the machine, so that layouts agree across platforms;
   compilers turn this into one load on little-endian machines. */
static inline uint64_t load_word(const unsigned char *p) {
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

/* One word into the state. For a fixed word this is a bijection of the state, so keys that
   differ in one word never collide; the fold brings the product's high bits down, where the
   next multiply spreads them again. */
static inline uint64_t mix_word(uint64_t state, uint64_t word) {
    state = (state ^ word) * 0x9E3779B97F4A7C15ULL;
    return state ^ (state >> 32);
}

static uint64_t hash_key(const char *key, size_t length) {
    const unsigned char *p = (const unsigned char *)key;
    /* The length goes in first, so that the zero padding of the last word is unambiguous. */
    uint64_t state = 0xCBF29CE484222325ULL ^ ((uint64_t)length * 0xFF51AFD7ED558CCDULL);
    size_t remaining = length;
    for (; remaining >= 8; remaining -= 8, p += 8) {
        state = mix_word(state, load_word(p));
    }
    if (remaining) {
        uint64_t word = 0;
        for (size_t i = 0; i < remaining; i++) {
            word |= (uint64_t)p[i] << (8 * i);
        }
        state = mix_word(state, word);
    }
    /* splitmix64's finalizer: every bit of the state reaches the low bits. */
    state = (state ^ (state >> 30)) * 0xBF58476D1CE4E5B9ULL;
    state = (state ^ (state >> 27)) * 0x94D049BB133111EBULL;
    return state ^ (state >> 31);
}

/* ---- the table ---- */

static inline Entry *slot_entry(Slot slot) { return (Entry *)(uintptr_t)(slot & ADDRESS_MASK); }

static inline uint64_t slot_tag(Slot slot) { return slot >> ADDRESS_BITS; }

static inline Slot make_slot(uint64_t hash, const Entry *entry) {
    return (hash >> ADDRESS_BITS) << ADDRESS_BITS | (uint64_t)(uintptr_t)entry;
}

static inline uint64_t entry_hash(const Entry *entry) {
    return hash_key(entry->bytes, entry->key_length);
}

static inline int entry_has_key(const Entry *entry, const char *key, size_t length) {
    return entry->key_length == length && memcmp(entry->bytes, key, length) == 0;
}

/* The slot holding `key`, or -1. */
static Py_ssize_t find_slot(const Table *table, uint64_t hash, const char *key, size_t length) {
    if (table->capacity == 0) {
        return -1;
    }
    size_t mask = table->capacity - 1;
    uint64_t tag = hash >> ADDRESS_BITS;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        Slot slot = table->slots[i];
        if (slot == 0) {
            return -1;
        }
        /* The tag first: the entry, another cache miss, is read only on a likely match. */
        if (slot_tag(slot) == tag && entry_has_key(slot_entry(slot), key, length)) {
            return (Py_ssize_t)i;
        }
    }
}

/* Put an entry whose key is absent; the array must have room. */
static inline void place(Slot *slots, size_t capacity, uint64_t hash, Entry *entry) {
    size_t mask = capacity - 1;
    size_t i = hash & mask;
    while (slots[i] != 0) {
        i = (i + 1) & mask;
    }
    slots[i] = make_slot(hash, entry);
}

/* Empty slot `hole` and shift back the entries after it that probing would no longer reach:
   each entry of the run moves into the hole unless the hole lies before its home slot. */
static void remove_slot(Table *table, size_t hole) {
    size_t mask = table->capacity - 1;
    Slot *slots = table->slots;
    for (size_t i = (hole + 1) & mask; slots[i] != 0; i = (i + 1) & mask) {
        size_t home = entry_hash(slot_entry(slots[i])) & mask;
        /* Distances going forward, wrapping: home..i against hole..i. */
        if (((i - home) & mask) >= ((i - hole) & mask)) {
            slots[hole] = slots[i];
            hole = i;
        }
    }
    slots[hole] = 0;
}

/* A zeroed slot array. A large one is put on 2 MiB pages where the kernel allows it: a get
   at millions of keys misses the cache on its slot anyway, and a TLB miss on top of that
   added about 60 ns (6M keys, this machine's Linux, transparent huge pages on madvise). */
#define HUGE_PAGE ((size_t)2 << 20)
static Slot *alloc_slots(size_t capacity) {
    size_t size = capacity * sizeof(Slot);
#ifdef MADV_HUGEPAGE
    if (size >= HUGE_PAGE) {
        void *slots;
        if (posix_memalign(&slots, HUGE_PAGE, size)) {
            return NULL;
        }
        madvise(slots, size, MADV_HUGEPAGE); /* advice only: its failure changes nothing */
        memset(slots, 0, size);
        return slots;
    }
#endif
    return calloc(capacity, sizeof(Slot));
}

/* How far ahead reserve prefetches the entries it moves. */
#define RESIZE_AHEAD 16

/* Make room for `count` keys within the 3/4 load; 0, or -1 if out of memory (table as it
   was). Entries are moved in slot order, so the new layout follows from the old one. */
static int reserve(Table *table, size_t count) {
    size_t capacity = table->capacity ? table->capacity : MIN_CAPACITY;
    while (count > capacity / 4 * 3) {
        if (capacity > ((size_t)PY_SSIZE_T_MAX / sizeof(Slot)) / 2) {
            return -1;
        }
        capacity *= 2;
    }
    if (capacity == table->capacity) {
        return 0;
    }
    Slot *slots = alloc_slots(capacity);
    if (slots == NULL) {
        return -1;
    }
    /* Each entry's key is hashed again: at millions of keys the entries are cold, so each
       is fetched RESIZE_AHEAD slots ahead of its turn, to overlap the misses. */
    for (size_t i = 0; i < table->capacity; i++) {
        if (i + RESIZE_AHEAD < table->capacity && table->slots[i + RESIZE_AHEAD] != 0) {
            __builtin_prefetch(slot_entry(table->slots[i + RESIZE_AHEAD]));
        }
        Slot slot = table->slots[i];
        if (slot != 0) {
            const Entry *entry = slot_entry(slot);
            place(slots, capacity, entry_hash(entry), (Entry *)entry);
        }
    }
    free(table->slots);
    table->slots = slots;
    table->capacity = capacity;
    table->version++;
    return 0;
}

static Entry *new_entry(const Item *item) {
    Entry *entry = malloc(ENTRY_SIZE(item->key_length, item->value_length));
    if (entry != NULL && ((uint64_t)(uintptr_t)entry & ~ADDRESS_MASK) != 0) {
        free(entry); /* an address a slot cannot hold: as if out of memory */
        entry = NULL;
    }
    if (entry != NULL) {
        entry->key_length = (uint32_t)item->key_length;
        entry->value_length = (uint32_t)item->value_length;
        memcpy(entry->bytes, item->key, item->key_length);
        memcpy(entry->bytes + item->key_length, item->value, item->value_length);
    }
    return entry;
}

/* ---- keys from Python ---- */

/* The UTF-8 bytes of str `key` (borrowed from it or from a new bytes object put in
   `*holder`); -1 with an exception set if it cannot be encoded at all. */
static int key_bytes(PyObject *key, const char **bytes, size_t *length, PyObject **holder) {
    Py_ssize_t size;
    *holder = NULL;
    const char *utf8 = PyUnicode_AsUTF8AndSize(key, &size);
    if (utf8 == NULL) {
        /* Lone surrogates: strict UTF-8 refuses them; surrogatepass keeps every str distinct. */
        if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
            return -1;
        }
        PyErr_Clear();
        *holder = PyUnicode_AsEncodedString(key, "utf-8", "surrogatepass");
        if (*holder == NULL) {
            return -1;
        }
        utf8 = PyBytes_AS_STRING(*holder);
        size = PyBytes_GET_SIZE(*holder);
    }
    *bytes = utf8;
    *length = (size_t)size;
    return 0;
}

static PyObject *decode_key(const Entry *entry) {
    return PyUnicode_DecodeUTF8(entry->bytes, (Py_ssize_t)entry->key_length, "surrogatepass");
}

/* The entry of str `key`, or NULL (with no exception unless *failed is set). */
static Entry *lookup(const Table *table, PyObject *key, int *failed) {
    const char *bytes;
    size_t length;
    PyObject *holder;
    *failed = key_bytes(key, &bytes, &length, &holder);
    if (*failed) {
        return NULL;
    }
    Py_ssize_t i = find_slot(table, hash_key(bytes, length), bytes, length);
    Py_XDECREF(holder);
    return i < 0 ? NULL : slot_entry(table->slots[i]);
}

/* ---- the Python type ---- */

static PyTypeObject TableType;

static PyObject *table_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    if (PyTuple_GET_SIZE(args) != 0 || (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0)) {
        PyErr_SetString(PyExc_TypeError, "a new value table takes no arguments; see update()");
        return NULL;
    }
    Table *table = (Table *)type->tp_alloc(type, 0);
    if (table != NULL) {
        table->slots = NULL;
        table->capacity = table->count = table->entry_bytes = 0;
        table->version = table->generation = 0;
    }
    return (PyObject *)table;
}

static void table_dealloc(Table *table) {
    for (size_t i = 0; i < table->capacity; i++) {
        free(slot_entry(table->slots[i]));
    }
    free(table->slots);
    Py_TYPE(table)->tp_free((PyObject *)table);
}

static Py_ssize_t table_length(Table *table) { return (Py_ssize_t)table->count; }

static int table_contains(Table *table, PyObject *key) {
    if (!PyUnicode_Check(key)) {
        return 0;
    }
    int failed;
    Entry *entry = lookup(table, key, &failed);
    return failed ? -1 : entry != NULL;
}

static PyObject *table_get(Table *table, PyObject *key) {
    if (!PyUnicode_Check(key)) {
        PyErr_Format(PyExc_TypeError, "value table keys are str, got %.100s",
                     Py_TYPE(key)->tp_name);
        return NULL;
    }
    int failed;
    Entry *entry = lookup(table, key, &failed);
    if (entry == NULL) {
        if (failed) {
            return NULL;
        }
        Py_RETURN_NONE;
    }
    return PyBytes_FromStringAndSize(entry->bytes + entry->key_length,
                                     (Py_ssize_t)entry->value_length);
}

/* Check item `index` (key and value, or the pair) and fill `item`; -1 with TypeError (or
   ValueError for a key or value past LENGTH_LIMIT) naming it. */
static int read_item(PyObject *key, PyObject *value, Py_ssize_t index, Item *item) {
    item->holder = NULL;
    item->key_object = key;
    if (!PyUnicode_Check(key)) {
        PyErr_Format(PyExc_TypeError, "value table update item %zd: the key is %.100s, not str",
                     index, Py_TYPE(key)->tp_name);
        return -1;
    }
    if (value != Py_None && !PyBytes_Check(value)) {
        PyErr_Format(PyExc_TypeError,
                     "value table update item %zd (key %R): the value is %.100s, not bytes or "
                     "None",
                     index, key, Py_TYPE(value)->tp_name);
        return -1;
    }
    if (key_bytes(key, &item->key, &item->key_length, &item->holder)) {
        return -1;
    }
    item->value = NULL;
    item->value_length = 0;
    if (value != Py_None) {
        item->value = PyBytes_AS_STRING(value);
        item->value_length = (size_t)PyBytes_GET_SIZE(value);
    }
    if (item->key_length > LENGTH_LIMIT || item->value_length > LENGTH_LIMIT) {
        PyErr_Format(PyExc_ValueError, "value table update item %zd: key or value over 4 GiB",
                     index);
        return -1;
    }
    item->hash = hash_key(item->key, item->key_length);
    item->found = item->fresh = NULL;
    item->action = ACT_NONE;
    item->superseded = 0;
    return 0;
}

static void free_items(Item *items, Py_ssize_t count) {
    for (Py_ssize_t i = 0; i < count; i++) {
        Py_XDECREF(items[i].holder);
    }
    PyMem_RawFree(items);
}

/* Read `source` into a new array of items (*count_out of them); NULL with an exception if an
   item is malformed. The bytes the items point to stay alive while `*owner` and the items'
   holders do, and no Python code runs between here and the end of the table change, so
   nothing can alter them. A dict's items view is read in place: listing it would allocate a
   tuple per item (and could let the GC run a finalizer that changes the dict). */
static Item *read_items(PyObject *source, Py_ssize_t *count_out, PyObject **owner) {
    PyObject *dict = NULL;
    if (PyDictItems_Check(source)) {
        dict = (PyObject *)((_PyDictViewObject *)source)->dv_dict;
        Py_INCREF(dict);
        *owner = dict;
    } else {
        if (Py_TYPE(source)->tp_iter == NULL && !PySequence_Check(source)) {
            PyErr_Format(PyExc_TypeError,
                         "value table update takes an iterable of (str, bytes | None) pairs, "
                         "got %.100s",
                         Py_TYPE(source)->tp_name);
            return NULL;
        }
        /* A list of our own: the source (a generator, say) runs its code now, not later. */
        *owner = PySequence_List(source);
        if (*owner == NULL) {
            return NULL;
        }
    }
    Py_ssize_t count = dict ? PyDict_GET_SIZE(dict) : PyList_GET_SIZE(*owner);
    Py_ssize_t filled = 0;
    /* Zeroed: on failure every holder, set or not, can be released. */
    Item *items = PyMem_RawCalloc(count ? (size_t)count : 1, sizeof(Item));
    if (items == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    if (dict) {
        Py_ssize_t position = 0;
        PyObject *key, *value;
        while (filled < count && PyDict_Next(dict, &position, &key, &value)) {
            if (read_item(key, value, filled, &items[filled])) {
                goto fail;
            }
            filled++;
        }
    } else {
        for (; filled < count; filled++) {
            PyObject *pair = PyList_GET_ITEM(*owner, filled);
            if (PyList_Check(pair)) {
                /* A list's items could change; a tuple of them, held by our list, cannot. */
                PyObject *tuple = PyList_AsTuple(pair);
                if (tuple == NULL) {
                    goto fail;
                }
                PyList_SET_ITEM(*owner, filled, tuple);
                Py_DECREF(pair);
                pair = tuple;
            }
            if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
                PyErr_Format(PyExc_TypeError,
                             "value table update item %zd: a %.100s, not a (key, value) pair",
                             filled, Py_TYPE(pair)->tp_name);
                goto fail;
            }
            if (read_item(PyTuple_GET_ITEM(pair, 0), PyTuple_GET_ITEM(pair, 1), filled,
                          &items[filled])) {
                goto fail;
            }
        }
    }
    *count_out = count;
    return items;
fail:
    if (items != NULL) {
        free_items(items, count);
    }
    Py_CLEAR(*owner);
    return NULL;
}

/* Mark every item that a later item with the same key overrides; -1 if out of memory. */
static int mark_superseded(Item *items, Py_ssize_t count) {
    if (count < 2) {
        return 0;
    }
    size_t capacity = 4;
    while (capacity < 2 * (size_t)count) {
        capacity *= 2;
    }
    /* Item index + 1 per slot; 0 is empty. */
    Py_ssize_t *seen = PyMem_RawCalloc(capacity, sizeof(Py_ssize_t));
    if (seen == NULL) {
        return -1;
    }
    size_t mask = capacity - 1;
    for (Py_ssize_t i = 0; i < count; i++) {
        size_t s = items[i].hash & mask;
        for (; seen[s] != 0; s = (s + 1) & mask) {
            Item *earlier = &items[seen[s] - 1];
            if (earlier->hash == items[i].hash && earlier->key_length == items[i].key_length &&
                memcmp(earlier->key, items[i].key, items[i].key_length) == 0) {
                earlier->superseded = 1;
                break;
            }
        }
        seen[s] = i + 1;
    }
    PyMem_RawFree(seen);
    return 0;
}

/* How far ahead prepare prefetches: about as many misses as a core keeps in flight. */
#define PREFETCH_AHEAD 16

/* Decide each live item's action and allocate what the batch needs (the slot array first,
   then the new entries); -1 if out of memory, with the new entries freed again. Nothing here
   changes the table's contents. */
static int prepare(Table *table, Item *items, Py_ssize_t count) {
    size_t inserts = 0;
    size_t mask = table->capacity ? table->capacity - 1 : 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        Item *item = &items[i];
        if (table->capacity) {
            /* At millions of keys each lookup misses the cache twice, on its slot and then on
               its entry: fetch the slot PREFETCH_AHEAD items ahead and, once that has had
               time to arrive, the entry it points to, so the misses overlap. */
            if (i + PREFETCH_AHEAD < count) {
                __builtin_prefetch(&table->slots[items[i + PREFETCH_AHEAD].hash & mask]);
            }
            if (i + PREFETCH_AHEAD / 2 < count) {
                Slot ahead = table->slots[items[i + PREFETCH_AHEAD / 2].hash & mask];
                if (ahead != 0) {
                    __builtin_prefetch(slot_entry(ahead));
                }
            }
        }
        if (item->superseded) {
            continue;
        }
        Py_ssize_t slot = find_slot(table, item->hash, item->key, item->key_length);
        item->found = slot < 0 ? NULL : slot_entry(table->slots[slot]);
        if (item->value == NULL) {
            item->action = item->found ? ACT_DELETE : ACT_NONE;
        } else if (item->found == NULL) {
            item->action = ACT_INSERT;
            inserts++;
        } else if (item->found->value_length == item->value_length) {
            item->action = ACT_REPLACE;
        } else if (item->found->value_length < item->value_length) {
            /* Growing by realloc could not be undone if a later allocation failed, and could
               move the entry: a fresh entry is put in its place instead. */
            item->action = ACT_SWAP;
        } else {
            item->action = ACT_RESIZE; /* shrinks in place: realloc to smaller */
        }
    }
    if (inserts && reserve(table, table->count + inserts)) {
        return -1;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        Item *item = &items[i];
        if (item->action == ACT_INSERT || item->action == ACT_SWAP) {
            item->fresh = new_entry(item);
            if (item->fresh == NULL) {
                for (Py_ssize_t j = 0; j < i; j++) {
                    free(items[j].fresh);
                    items[j].fresh = NULL;
                }
                return -1;
            }
        }
    }
    return 0;
}

/* Apply a prepared batch: cannot fail. Live items have distinct keys, so what prepare found
   for one item still holds when its turn comes. */
static void apply(Table *table, Item *items, Py_ssize_t count) {
    for (Py_ssize_t i = 0; i < count; i++) {
        Item *item = &items[i];
        Entry *found = item->found;
        Py_ssize_t slot;
        switch (item->action) {
        case ACT_DELETE:
            slot = find_slot(table, item->hash, item->key, item->key_length);
            table->entry_bytes -= ENTRY_SIZE(found->key_length, found->value_length);
            free(found);
            remove_slot(table, (size_t)slot);
            table->count--;
            table->version++;
            break;
        case ACT_INSERT:
            place(table->slots, table->capacity, item->hash, item->fresh);
            table->entry_bytes += ENTRY_SIZE(item->key_length, item->value_length);
            table->count++;
            table->version++;
            break;
        case ACT_REPLACE:
            memcpy(found->bytes + found->key_length, item->value, item->value_length);
            break;
        case ACT_SWAP:
            slot = find_slot(table, item->hash, item->key, item->key_length);
            table->slots[slot] = make_slot(item->hash, item->fresh);
            table->entry_bytes += ENTRY_SIZE(item->key_length, item->value_length) -
                                  ENTRY_SIZE(found->key_length, found->value_length);
            free(found);
            break;
        case ACT_RESIZE: {
            slot = find_slot(table, item->hash, item->key, item->key_length);
            table->entry_bytes -= found->value_length - item->value_length;
            /* A shrinking realloc that fails leaves the larger block, which still fits. */
            Entry *resized = realloc(found, ENTRY_SIZE(item->key_length, item->value_length));
            if (resized != NULL) {
                table->slots[slot] = make_slot(item->hash, resized);
                found = resized;
            }
            found->value_length = (uint32_t)item->value_length;
            memcpy(found->bytes + found->key_length, item->value, item->value_length);
            break;
        }
        default:
            break;
        }
    }
}

/* The keys of `items` that were absent and are now set: a new list, or NULL. */
static PyObject *inserted_keys(const Item *items, Py_ssize_t count) {
    PyObject *keys = PyList_New(0);
    for (Py_ssize_t i = 0; keys != NULL && i < count; i++) {
        if (items[i].action == ACT_INSERT && PyList_Append(keys, items[i].key_object) < 0) {
            Py_CLEAR(keys);
        }
    }
    return keys;
}

/* update, and with `report` the list of keys it inserted. The list is made before the batch
   is applied, so that running out of memory for it leaves the table unchanged. */
static PyObject *update_items(Table *table, PyObject *source, int report) {
    PyObject *owner;
    Py_ssize_t count;
    Item *items = read_items(source, &count, &owner);
    if (items == NULL) {
        return NULL;
    }
    PyObject *result = NULL;
    if (mark_superseded(items, count) || prepare(table, items, count)) {
        PyErr_NoMemory();
    } else {
        result = report ? inserted_keys(items, count) : Py_NewRef(Py_None);
        if (result == NULL) {
            for (Py_ssize_t i = 0; i < count; i++) {
                free(items[i].fresh);
            }
        } else {
            apply(table, items, count);
            table->generation++;
        }
    }
    free_items(items, count);
    Py_DECREF(owner);
    return result;
}

static PyObject *table_update(Table *table, PyObject *source) {
    return update_items(table, source, 0);
}

static PyObject *table_update_inserted(Table *table, PyObject *source) {
    return update_items(table, source, 1);
}

static PyObject *table_memory_bytes(Table *table, PyObject *unused) {
    (void)unused;
    return PyLong_FromSize_t(table->capacity * sizeof(Slot) + table->entry_bytes);
}

static PyObject *table_sizeof(Table *table, PyObject *unused) {
    (void)unused;
    return PyLong_FromSize_t(Py_TYPE(table)->tp_basicsize + table->capacity * sizeof(Slot) +
                             table->entry_bytes);
}

/* ---- serialization ---- */

#define FORMAT_MAGIC "RVT\0"
#define FORMAT_VERSION 1u
#define HEADER_SIZE 24 /* magic, version, count, lead */
#define ENTRY_HEADER_SIZE 8 /* key length, value length */

static inline void store_u32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) {
        p[i] = (unsigned char)(v >> (8 * i));
    }
}

static inline void store_u64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) {
        p[i] = (unsigned char)(v >> (8 * i));
    }
}

static inline uint32_t load_u32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static PyObject *table_to_bytes(Table *table, PyObject *unused) {
    (void)unused;
    size_t size = HEADER_SIZE;
    size_t lead = 0;
    int before_gap = 1; /* still in the slots before the first empty one */
    for (size_t i = 0; i < table->capacity; i++) {
        const Entry *entry = slot_entry(table->slots[i]);
        if (entry == NULL) {
            before_gap = 0;
            continue;
        }
        lead += before_gap;
        /* Each term is under 2^33 and there are fewer than 2^60 of them: no wrap in size_t. */
        size += ENTRY_HEADER_SIZE + (size_t)entry->key_length + entry->value_length;
    }
    if (size > (size_t)PY_SSIZE_T_MAX) {
        return PyErr_NoMemory();
    }
    /* One bytes object, filled in place: no Python object per entry. */
    PyObject *result = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)size);
    if (result == NULL) {
        return NULL;
    }
    unsigned char *out = (unsigned char *)PyBytes_AS_STRING(result);
    memcpy(out, FORMAT_MAGIC, 4);
    store_u32(out + 4, FORMAT_VERSION);
    store_u64(out + 8, (uint64_t)table->count);
    store_u64(out + 16, (uint64_t)lead);
    out += HEADER_SIZE;
    for (size_t i = 0; i < table->capacity; i++) {
        const Entry *entry = slot_entry(table->slots[i]);
        if (entry == NULL) {
            continue;
        }
        size_t length = (size_t)entry->key_length + entry->value_length;
        store_u32(out, entry->key_length);
        store_u32(out + 4, entry->value_length);
        memcpy(out + ENTRY_HEADER_SIZE, entry->bytes, length);
        out += ENTRY_HEADER_SIZE + length;
    }
    return result;
}

/* Offset of the first byte at which `s` stops being what surrogatepass decodes (strict UTF-8,
   plus the three-byte forms of U+D800..U+DFFF, which is how key_bytes stores lone
   surrogates), or -1 if it is all valid. Overlong forms and code points past U+10FFFF are
   refused, so every accepted key is the encoding of exactly one str. */
static Py_ssize_t invalid_utf8(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        unsigned char low = 0x80, high = 0xBF; /* the range of the second byte */
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0) {
                low = 0xA0; /* below: overlong */
            }
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0) {
                low = 0x90; /* below: overlong */
            } else if (c == 0xF4) {
                high = 0x8F; /* above: past U+10FFFF */
            }
        } else {
            return (Py_ssize_t)i;
        }
        if (n - i <= need || s[i + 1] < low || s[i + 1] > high) {
            return (Py_ssize_t)i;
        }
        for (size_t k = 2; k <= need; k++) {
            if ((s[i + k] & 0xC0) != 0x80) {
                return (Py_ssize_t)i;
            }
        }
        i += need + 1;
    }
    return -1;
}

/* Where each entry of `data` lies, read by next_entry; `data` has been checked already. */
typedef struct {
    const unsigned char *at;
} Cursor;

static inline void next_entry(Cursor *cursor, Item *item) {
    item->key_length = load_u32(cursor->at);
    item->value_length = load_u32(cursor->at + 4);
    item->key = (const char *)cursor->at + ENTRY_HEADER_SIZE;
    item->value = item->key + item->key_length;
    cursor->at += ENTRY_HEADER_SIZE + item->key_length + item->value_length;
}

/* Check everything about `data` but duplicate keys, allocating nothing; -1 with ValueError.
   On success *count and *lead are the header's. */
static int check_serialized(const unsigned char *data, size_t size, size_t *count_out,
                            size_t *lead_out) {
    if (size < HEADER_SIZE) {
        PyErr_Format(PyExc_ValueError,
                     "value table data: %zu bytes, shorter than the %d-byte header", size,
                     HEADER_SIZE);
        return -1;
    }
    if (memcmp(data, FORMAT_MAGIC, 4) != 0) {
        PyErr_SetString(PyExc_ValueError,
                        "value table data: bad magic (not from NativeValueTable.to_bytes)");
        return -1;
    }
    uint32_t version = load_u32(data + 4);
    if (version != FORMAT_VERSION) {
        PyErr_Format(PyExc_ValueError,
                     "value table data: format version %lu, this build reads only %lu",
                     (unsigned long)version, (unsigned long)FORMAT_VERSION);
        return -1;
    }
    uint64_t count = load_word(data + 8);
    uint64_t lead = load_word(data + 16);
    /* Every entry takes at least its two lengths: a count the data cannot hold is refused
       before anything is sized from it. */
    if (count > (size - HEADER_SIZE) / ENTRY_HEADER_SIZE) {
        PyErr_Format(PyExc_ValueError,
                     "value table data: the header counts %llu entries, more than %zu bytes "
                     "can hold",
                     (unsigned long long)count, size);
        return -1;
    }
    if (lead > count) {
        PyErr_Format(PyExc_ValueError,
                     "value table data: the header's lead (%llu) exceeds its count (%llu)",
                     (unsigned long long)lead, (unsigned long long)count);
        return -1;
    }
    size_t at = HEADER_SIZE;
    for (size_t i = 0; i < count; i++) {
        if (at == size) {
            PyErr_Format(PyExc_ValueError,
                         "value table data: the header counts %llu entries, the data holds %zu",
                         (unsigned long long)count, i);
            return -1;
        }
        if (size - at < ENTRY_HEADER_SIZE) {
            PyErr_Format(PyExc_ValueError, "value table data: entry %zu is truncated", i);
            return -1;
        }
        size_t key_length = load_u32(data + at);
        size_t value_length = load_u32(data + at + 4);
        at += ENTRY_HEADER_SIZE;
        if (key_length > size - at || value_length > size - at - key_length) {
            PyErr_Format(PyExc_ValueError,
                         "value table data: entry %zu (key %zu bytes, value %zu bytes) runs "
                         "past the end of the data",
                         i, key_length, value_length);
            return -1;
        }
        Py_ssize_t bad = invalid_utf8(data + at, key_length);
        if (bad >= 0) {
            PyErr_Format(PyExc_ValueError,
                         "value table data: entry %zu: the key is not valid UTF-8 (byte %zd)", i,
                         bad);
            return -1;
        }
        at += key_length + value_length;
    }
    if (at != size) {
        PyErr_Format(PyExc_ValueError,
                     "value table data: %zu trailing bytes after the %llu entries", size - at,
                     (unsigned long long)count);
        return -1;
    }
    *count_out = (size_t)count;
    *lead_out = (size_t)lead;
    return 0;
}

/* Insert the checked entry `item` into `table` (sized for it); -1 with ValueError on a
   duplicate key or MemoryError. */
static int restore_entry(Table *table, Item *item, size_t index) {
    item->hash = hash_key(item->key, item->key_length);
    if (find_slot(table, item->hash, item->key, item->key_length) >= 0) {
        PyObject *key =
            PyUnicode_DecodeUTF8(item->key, (Py_ssize_t)item->key_length, "surrogatepass");
        if (key != NULL) {
            PyErr_Format(PyExc_ValueError, "value table data: entry %zu repeats the key %R",
                         index, key);
            Py_DECREF(key);
        }
        return -1;
    }
    Entry *entry = new_entry(item);
    if (entry == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    place(table->slots, table->capacity, item->hash, entry);
    table->entry_bytes += ENTRY_SIZE(item->key_length, item->value_length);
    table->count++;
    return 0;
}

static PyObject *table_from_bytes(PyObject *cls, PyObject *data) {
    /* The new table first: cls() may run Python code, which must not see `data` checked. */
    PyObject *made = PyObject_CallNoArgs(cls);
    if (made == NULL) {
        return NULL;
    }
    if (!PyObject_TypeCheck(made, &TableType) || ((Table *)made)->count != 0) {
        PyErr_Format(PyExc_TypeError, "from_bytes: %.100s() did not make an empty value table",
                     ((PyTypeObject *)cls)->tp_name);
        Py_DECREF(made);
        return NULL;
    }
    Table *table = (Table *)made;
    Py_buffer view;
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) {
        Py_DECREF(made);
        return NULL;
    }
    const unsigned char *bytes = view.buf;
    size_t count, lead;
    /* The buffer is exported until released: a bytearray cannot be resized meanwhile, and no
       Python code runs from here on to change its contents. */
    int failed = check_serialized(bytes, (size_t)view.len, &count, &lead);
    if (!failed && count && reserve(table, count)) {
        PyErr_NoMemory();
        failed = 1;
    }
    if (!failed && count) {
        /* The entries after the lead, then the lead: see the header comment. */
        Item item;
        Cursor cursor = {bytes + HEADER_SIZE};
        const unsigned char *lead_start = cursor.at;
        for (size_t i = 0; i < lead; i++) {
            next_entry(&cursor, &item);
        }
        for (size_t i = lead; i < count && !failed; i++) {
            next_entry(&cursor, &item);
            failed = restore_entry(table, &item, i);
        }
        cursor.at = lead_start;
        for (size_t i = 0; i < lead && !failed; i++) {
            next_entry(&cursor, &item);
            failed = restore_entry(table, &item, i);
        }
    }
    PyBuffer_Release(&view);
    if (failed) {
        Py_DECREF(made); /* frees every entry put in so far */
        return NULL;
    }
    table->version++;
    return made;
}

/* ---- iteration ---- */

static PyTypeObject IteratorType;

static PyObject *table_iter(Table *table) {
    TableIterator *iterator = PyObject_GC_New(TableIterator, &IteratorType);
    if (iterator == NULL) {
        return NULL;
    }
    Py_INCREF(table);
    iterator->table = table;
    iterator->position = 0;
    iterator->version = table->version;
    PyObject_GC_Track(iterator);
    return (PyObject *)iterator;
}

/* Tracked by the GC although the table holds no objects: a subclass's instance may hold its
   own iterator, a cycle only the GC can free. */
static int iterator_traverse(TableIterator *iterator, visitproc visit, void *arg) {
    Py_VISIT(iterator->table);
    return 0;
}

static int iterator_clear(TableIterator *iterator) {
    Py_CLEAR(iterator->table);
    return 0;
}

static void iterator_dealloc(TableIterator *iterator) {
    PyObject_GC_UnTrack(iterator);
    Py_XDECREF(iterator->table);
    PyObject_GC_Del(iterator);
}

static PyObject *iterator_next(TableIterator *iterator) {
    Table *table = iterator->table;
    if (table == NULL) {
        return NULL;
    }
    if (table->version != iterator->version) {
        /* Stays raised on later calls too, as a dict iterator's does. */
        PyErr_SetString(PyExc_RuntimeError, "value table changed during iteration");
        return NULL;
    }
    for (size_t i = iterator->position; i < table->capacity; i++) {
        if (table->slots[i] != 0) {
            iterator->position = i + 1;
            return decode_key(slot_entry(table->slots[i]));
        }
    }
    iterator->position = table->capacity;
    Py_CLEAR(iterator->table);
    return NULL;
}

static PyTypeObject IteratorType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "rantai.core._values.NativeValueTableIterator",
    .tp_doc = "An iterator over a value table's keys.",
    .tp_basicsize = sizeof(TableIterator),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_dealloc = (destructor)iterator_dealloc,
    .tp_traverse = (traverseproc)iterator_traverse,
    .tp_clear = (inquiry)iterator_clear,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)iterator_next,
};

static PyMethodDef table_methods[] = {
    {"get", (PyCFunction)table_get, METH_O,
     "Return a new bytes object with the value of str `key`, or None when absent."},
    {"update", (PyCFunction)table_update, METH_O,
     "Apply (key, value) pairs: set key to value, or delete it when value is None.\n\n"
     "Later pairs win over earlier ones for the same key; deleting an absent key changes\n"
     "nothing. Raises TypeError (table unchanged) on any malformed item."},
    {"update_inserted", (PyCFunction)table_update_inserted, METH_O,
     "As update; return a list of the keys it inserted (absent before), in the pairs' order.\n\n"
     "What a caller keeping its own index of the keys needs, without looking each one up."},
    {"to_bytes", (PyCFunction)table_to_bytes, METH_NOARGS,
     "Every entry, in iteration order, as one bytes object that from_bytes reads back."},
    {"from_bytes", (PyCFunction)table_from_bytes, METH_O | METH_CLASS,
     "A new table holding the entries of `data` (from to_bytes, any bytes-like object).\n\n"
     "Raises ValueError, making nothing, if `data` is malformed in any way."},
    {"memory_bytes", (PyCFunction)table_memory_bytes, METH_NOARGS,
     "Bytes the table holds in C: its slot array and the sizes malloc'ed for its entries."},
    {"__sizeof__", (PyCFunction)table_sizeof, METH_NOARGS,
     "Bytes held: the object and memory_bytes()."},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods table_as_sequence = {
    .sq_length = (lenfunc)table_length,
    .sq_contains = (objobjproc)table_contains,
};

static PyTypeObject TableType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "rantai.core._values.NativeValueTable",
    .tp_doc = "Map of str keys to bytes values, stored compactly in C, in a deterministic order.",
    .tp_basicsize = sizeof(Table),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_new = table_new,
    .tp_dealloc = (destructor)table_dealloc,
    .tp_methods = table_methods,
    .tp_as_sequence = &table_as_sequence,
    .tp_iter = (getiterfunc)table_iter,
};

/* ---- decoded reads ----

A DecodedReader answers `get(key, default)` with the decoded record at `key`: from its cache
of decoded records (a dict, shared with the Python that replaces records when blocks apply),
else by decoding the table's bytes with the decoder of the key's namespace (the text before
its first "/"), caching the result. The ledger reads ~20 keys a transfer, most of them hits:
in C a hit is one dict probe and no Python frame.

A read that decodes keeps the GIL unless the decoder runs Python code; if the table was
updated meanwhile (its generation moved), the record is returned but not cached, so a record
decoded from bytes an update has since replaced never enters the cache. When the cache holds
`cache_max` records its oldest half goes (insertion order): what is still hot comes back.

Once the cache has been full, a decoded record enters it only if its key missed before,
recently (a doorkeeper, as in TinyLFU): at a million accounts most misses are of keys read
once in a long while (a transfer's parties, accounts, claims), and caching each cost an
insert and later an eviction, for no hit. The doorkeeper is an array of as many 32-bit
fingerprints of keys' str hashes as the next power of two from `cache_max`, one per slot:
a miss whose fingerprint is in its key's slot is admitted (and the slot cleared); any other
leaves its fingerprint there. While the cache has never filled (a state of fewer keys than
`cache_max`, or the start of a run) every record is admitted, as before. What is cached
changes which reads decode, never what a read returns. */

typedef struct {
    PyObject_HEAD
    Table *table;
    PyObject *cache;        /* dict: key -> decoded record */
    PyObject *decoders;     /* dict: namespace -> callable(bytes) -> record */
    PyObject *find_decoder; /* callable(key) -> the decoder of key's namespace, or raises */
    Py_ssize_t cache_max;
    int doorkeeper;   /* 0: every record is admitted (for measuring what the doorkeeper saves) */
    uint32_t *door;   /* the doorkeeper's fingerprints, once the cache has filled; else NULL */
    size_t door_mask; /* its slots - 1 */
} Reader;

static PyTypeObject ReaderType;

static PyObject *reader_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"table", "cache", "find_decoder", "cache_max", "doorkeeper", NULL};
    PyObject *table, *cache, *find_decoder;
    Py_ssize_t cache_max;
    int doorkeeper = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!O!On|$p:DecodedReader", names, &TableType,
                                     &table, &PyDict_Type, &cache, &find_decoder, &cache_max,
                                     &doorkeeper)) {
        return NULL;
    }
    if (cache_max < 2) {
        PyErr_SetString(PyExc_ValueError, "cache_max must be 2 or more");
        return NULL;
    }
    PyObject *decoders = PyDict_New();
    if (decoders == NULL) {
        return NULL;
    }
    Reader *reader = (Reader *)type->tp_alloc(type, 0);
    if (reader == NULL) {
        Py_DECREF(decoders);
        return NULL;
    }
    reader->table = (Table *)Py_NewRef(table);
    reader->cache = Py_NewRef(cache);
    reader->decoders = decoders;
    reader->find_decoder = Py_NewRef(find_decoder);
    reader->cache_max = cache_max;
    reader->door = NULL;
    reader->doorkeeper = doorkeeper;
    reader->door_mask = 1;
    while (reader->door_mask < (size_t)cache_max) {
        reader->door_mask <<= 1;
    }
    reader->door_mask -= 1;
    return (PyObject *)reader;
}

static int reader_traverse(Reader *reader, visitproc visit, void *arg) {
    Py_VISIT(reader->table);
    Py_VISIT(reader->cache);
    Py_VISIT(reader->decoders);
    Py_VISIT(reader->find_decoder);
    return 0;
}

static int reader_clear(Reader *reader) {
    Py_CLEAR(reader->table);
    Py_CLEAR(reader->cache);
    Py_CLEAR(reader->decoders);
    Py_CLEAR(reader->find_decoder);
    return 0;
}

static void reader_dealloc(Reader *reader) {
    PyObject_GC_UnTrack(reader);
    PyMem_Free(reader->door);
    reader_clear(reader);
    Py_TYPE(reader)->tp_free((PyObject *)reader);
}

/* The decoder of `key`'s namespace: new reference, or NULL with an exception. */
static PyObject *namespace_decoder(Reader *reader, PyObject *key) {
    Py_ssize_t length = PyUnicode_GET_LENGTH(key);
    Py_ssize_t slash = PyUnicode_FindChar(key, '/', 0, length, 1);
    if (slash == -2) {
        return NULL;
    }
    PyObject *namespace = PyUnicode_Substring(key, 0, slash < 0 ? length : slash);
    if (namespace == NULL) {
        return NULL;
    }
    PyObject *decoder = PyDict_GetItemWithError(reader->decoders, namespace);
    if (decoder != NULL) {
        Py_INCREF(decoder);
    } else if (!PyErr_Occurred()) {
        decoder = PyObject_CallOneArg(reader->find_decoder, key);
        if (decoder != NULL && PyDict_SetItem(reader->decoders, namespace, decoder) < 0) {
            Py_CLEAR(decoder);
        }
    }
    Py_DECREF(namespace);
    return decoder;
}

/* Drop the oldest half of the cache (its first keys in insertion order). */
static int evict_oldest_half(PyObject *cache) {
    Py_ssize_t drop = PyDict_GET_SIZE(cache) / 2;
    PyObject *keys = PyList_New(drop);
    if (keys == NULL) {
        return -1;
    }
    Py_ssize_t position = 0, i = 0;
    PyObject *key, *value;
    while (i < drop && PyDict_Next(cache, &position, &key, &value)) {
        PyList_SET_ITEM(keys, i++, Py_NewRef(key));
    }
    int failed = 0;
    for (Py_ssize_t j = 0; j < i && !failed; j++) {
        failed = PyDict_DelItem(cache, PyList_GET_ITEM(keys, j)) < 0;
    }
    Py_DECREF(keys);
    return failed ? -1 : 0;
}

/* Whether the full cache takes the record of `key` (see above): 1, 0, or -1 with an
   exception. The first call allocates the doorkeeper. */
static int door_admits(Reader *reader, PyObject *key) {
    if (reader->door == NULL) {
        reader->door = PyMem_Calloc(reader->door_mask + 1, sizeof(uint32_t));
        if (reader->door == NULL) {
            PyErr_NoMemory();
            return -1;
        }
    }
    Py_hash_t hash = PyObject_Hash(key); /* a str caches it: the cache's probe made it */
    if (hash == -1) {
        return -1;
    }
    uint32_t *slot = &reader->door[(size_t)hash & reader->door_mask];
    uint32_t fingerprint = (uint32_t)((uint64_t)hash >> 32) | 1u; /* 0 marks an empty slot */
    if (*slot == fingerprint) {
        *slot = 0;
        return 1;
    }
    *slot = fingerprint;
    return 0;
}

static PyObject *reader_get(Reader *reader, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "get(key, default=None)");
        return NULL;
    }
    PyObject *key = args[0];
    PyObject *fallback = nargs == 2 ? args[1] : Py_None;
    if (!PyUnicode_Check(key)) {
        PyErr_Format(PyExc_TypeError, "state keys are str, got %.100s", Py_TYPE(key)->tp_name);
        return NULL;
    }
    PyObject *cached = PyDict_GetItemWithError(reader->cache, key);
    if (cached != NULL) {
        return Py_NewRef(cached);
    }
    if (PyErr_Occurred()) {
        return NULL;
    }
    Table *table = reader->table;
    int failed;
    Entry *entry = lookup(table, key, &failed);
    if (entry == NULL) {
        return failed ? NULL : Py_NewRef(fallback);
    }
    PyObject *raw = PyBytes_FromStringAndSize(entry->bytes + entry->key_length,
                                              (Py_ssize_t)entry->value_length);
    if (raw == NULL) {
        return NULL;
    }
    uint64_t generation = table->generation;
    PyObject *decoder = namespace_decoder(reader, key);
    PyObject *value = decoder == NULL ? NULL : PyObject_CallOneArg(decoder, raw);
    Py_XDECREF(decoder);
    Py_DECREF(raw);
    if (value == NULL || table->generation != generation) {
        return value;
    }
    if (reader->doorkeeper &&
        (reader->door != NULL || PyDict_GET_SIZE(reader->cache) >= reader->cache_max)) {
        int admitted = door_admits(reader, key);
        if (admitted <= 0) {
            if (admitted < 0) {
                Py_CLEAR(value);
            }
            return value;
        }
    }
    if (PyDict_GET_SIZE(reader->cache) >= reader->cache_max &&
        evict_oldest_half(reader->cache) < 0) {
        Py_DECREF(value);
        return NULL;
    }
    if (PyDict_SetItem(reader->cache, key, value) < 0) {
        Py_DECREF(value);
        return NULL;
    }
    return value;
}

/* After an update: each key of `decoded` that the cache holds takes its new record, or
   leaves the cache where the record is `deleted`; other keys are decoded when next read, so
   a block does not push the hot records out. */
static PyObject *reader_refresh(Reader *reader, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2 || !PyDict_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "refresh(decoded: dict, deleted)");
        return NULL;
    }
    PyObject *decoded = args[0], *deleted = args[1], *cache = reader->cache;
    Py_ssize_t position = 0;
    PyObject *key, *value;
    while (PyDict_Next(decoded, &position, &key, &value)) {
        int held = PyDict_Contains(cache, key);
        if (held < 0) {
            return NULL;
        }
        if (held && (value == deleted ? PyDict_DelItem(cache, key)
                                      : PyDict_SetItem(cache, key, value)) < 0) {
            return NULL;
        }
    }
    Py_RETURN_NONE;
}

static PyMethodDef reader_methods[] = {
    {"get", (PyCFunction)(void (*)(void))reader_get, METH_FASTCALL,
     "The decoded record at str `key` (cached), or `default` (None) when absent."},
    {"refresh", (PyCFunction)(void (*)(void))reader_refresh, METH_FASTCALL,
     "Replace the cached records of `decoded`'s keys (drop those that are `deleted`)."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ReaderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "rantai.core._values.DecodedReader",
    .tp_doc = "Decoded, cached reads of a value table's records.",
    .tp_basicsize = sizeof(Reader),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = reader_new,
    .tp_dealloc = (destructor)reader_dealloc,
    .tp_traverse = (traverseproc)reader_traverse,
    .tp_clear = (inquiry)reader_clear,
    .tp_methods = reader_methods,
};

/* ---- layered reads ----

OverlayReads is the base of rantai.core.state.StateView: its `get` reads a key through the
transaction's writes, the block's, the pending blocks', then the base's `get`, in C, as
every state read of execution does. A layer maps keys to records or to the `deleted`
marker (read as None); a layer that is not a dict is read by subscription. */

typedef struct {
    PyObject_HEAD
    PyObject *tx;
    PyObject *block;
    PyObject *pending;
    PyObject *base_get; /* callable(key) -> record or None */
    PyObject *deleted;
} Overlay;

static int overlay_traverse(Overlay *overlay, visitproc visit, void *arg) {
    Py_VISIT(overlay->tx);
    Py_VISIT(overlay->block);
    Py_VISIT(overlay->pending);
    Py_VISIT(overlay->base_get);
    Py_VISIT(overlay->deleted);
    return 0;
}

static int overlay_clear(Overlay *overlay) {
    Py_CLEAR(overlay->tx);
    Py_CLEAR(overlay->block);
    Py_CLEAR(overlay->pending);
    Py_CLEAR(overlay->base_get);
    Py_CLEAR(overlay->deleted);
    return 0;
}

static void overlay_dealloc(Overlay *overlay) {
    PyObject_GC_UnTrack(overlay);
    overlay_clear(overlay);
    Py_TYPE(overlay)->tp_free((PyObject *)overlay);
}

/* The value of `key` in `layer`: new reference, or NULL (absent, or an exception set). */
static PyObject *layer_get(PyObject *layer, PyObject *key) {
    if (PyDict_CheckExact(layer)) {
        return Py_XNewRef(PyDict_GetItemWithError(layer, key));
    }
    PyObject *value = PyObject_GetItem(layer, key);
    if (value == NULL && PyErr_ExceptionMatches(PyExc_KeyError)) {
        PyErr_Clear();
    }
    return value;
}

static PyObject *overlay_get(Overlay *overlay, PyObject *key) {
    PyObject *layers[3] = {overlay->tx, overlay->block, overlay->pending};
    if (layers[0] == NULL || layers[1] == NULL || layers[2] == NULL ||
        overlay->base_get == NULL || overlay->deleted == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "state view read before it was set up");
        return NULL;
    }
    for (int i = 0; i < 3; i++) {
        PyObject *value = layer_get(layers[i], key);
        if (value != NULL) {
            if (value == overlay->deleted) {
                Py_DECREF(value);
                Py_RETURN_NONE;
            }
            return value;
        }
        if (PyErr_Occurred()) {
            return NULL;
        }
    }
    return PyObject_Vectorcall(overlay->base_get, &key, 1, NULL);
}

static PyMethodDef overlay_methods[] = {
    {"get", (PyCFunction)overlay_get, METH_O,
     "The value of `key` through the layers, or None when absent or deleted."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef overlay_members[] = {
    {"_tx", T_OBJECT_EX, offsetof(Overlay, tx), 0, "The transaction's writes."},
    {"_block", T_OBJECT_EX, offsetof(Overlay, block), 0, "The block's accepted writes."},
    {"_pending", T_OBJECT_EX, offsetof(Overlay, pending), 0, "Earlier blocks' changes."},
    {"_base_get", T_OBJECT_EX, offsetof(Overlay, base_get), 0, "Reads of the base state."},
    {"_deleted", T_OBJECT_EX, offsetof(Overlay, deleted), 0, "The deletion marker."},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject OverlayType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "rantai.core._values.OverlayReads",
    .tp_doc = "Reads through a transaction's, a block's and pending writes, then a base.",
    .tp_basicsize = sizeof(Overlay),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_dealloc = (destructor)overlay_dealloc,
    .tp_traverse = (traverseproc)overlay_traverse,
    .tp_clear = (inquiry)overlay_clear,
    .tp_methods = overlay_methods,
    .tp_members = overlay_members,
};

static struct PyModuleDef values_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "rantai.core._values",
    .m_doc = "The native value table of the ledger state's encoded values, and the state reads "
             "of execution over it (DecodedReader, OverlayReads).",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__values(void) {
    if (PyType_Ready(&TableType) < 0 || PyType_Ready(&IteratorType) < 0 ||
        PyType_Ready(&ReaderType) < 0 || PyType_Ready(&OverlayType) < 0) {
        return NULL;
    }
    PyObject *module = PyModule_Create(&values_module);
    if (module == NULL) {
        return NULL;
    }
    if (PyModule_AddObjectRef(module, "NativeValueTable", (PyObject *)&TableType) < 0 ||
        PyModule_AddObjectRef(module, "DecodedReader", (PyObject *)&ReaderType) < 0 ||
        PyModule_AddObjectRef(module, "OverlayReads", (PyObject *)&OverlayType) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
