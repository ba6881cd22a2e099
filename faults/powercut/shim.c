/*
 * powercut: an LD_PRELOAD shim that keeps, beside every file a process writes under one
 * directory, a "durable image" holding only what an fsync made durable.
 *
 * Writes go to the real file as usual (the process sees its own writes), and are also queued
 * in memory per file. fsync/fdatasync on any descriptor of the file applies that file's queue,
 * in order, to its image and empties it. When the process is killed, the queues die with it:
 * copying the images over the real files then leaves exactly what a disk would hold after a
 * power cut that lost every write not yet synced (the model SQLite's own crash tests use).
 *
 *   POWERCUT_DIR     absolute directory whose files are watched (e.g. the hub's data dir)
 *   POWERCUT_SHADOW  absolute directory the images are kept in (outside POWERCUT_DIR)
 *
 * Files named *-shm are not watched: SQLite's WAL index lives in shared memory and is rebuilt
 * from the WAL after a crash, so the harness deletes it at the cut. Creating and deleting a
 * file are taken as durable at once (SQLite never depends on a rename).
 *
 * Build: cc -shared -fPIC -O2 -o powercut.so shim.c -ldl -lpthread
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define MAX_FDS 65536
#define MAX_FILES 256

enum op_kind { OP_WRITE, OP_TRUNCATE };

struct op {
    enum op_kind kind;
    off_t offset; /* write offset, or the new length */
    size_t len;
    char *data;
};

struct watched {
    char path[PATH_MAX];
    char image[PATH_MAX];
    struct op *ops;
    size_t n_ops, cap_ops;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct watched files[MAX_FILES];
static size_t n_files;
static int fd_file[MAX_FDS]; /* index into files + 1; 0 = not watched */

static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static int (*real_close)(int);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);
static int (*real_ftruncate)(int, off_t);
static int (*real_ftruncate64)(int, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_unlink)(const char *);

static void die(const char *what) {
    fprintf(stderr, "powercut: %s: %s\n", what, strerror(errno));
    abort();
}

__attribute__((constructor)) static void init(void) {
    real_open = dlsym(RTLD_NEXT, "open");
    real_open64 = dlsym(RTLD_NEXT, "open64");
    real_openat = dlsym(RTLD_NEXT, "openat");
    real_openat64 = dlsym(RTLD_NEXT, "openat64");
    real_close = dlsym(RTLD_NEXT, "close");
    real_write = dlsym(RTLD_NEXT, "write");
    real_pwrite = dlsym(RTLD_NEXT, "pwrite");
    real_pwrite64 = dlsym(RTLD_NEXT, "pwrite64");
    real_ftruncate = dlsym(RTLD_NEXT, "ftruncate");
    real_ftruncate64 = dlsym(RTLD_NEXT, "ftruncate64");
    real_fsync = dlsym(RTLD_NEXT, "fsync");
    real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
    real_unlink = dlsym(RTLD_NEXT, "unlink");
}

/* The watched file for an absolute path under POWERCUT_DIR, registering it (and creating its
 * image from the file's present content, which was durable when this process started) on
 * first sight. NULL when the path is not watched. Called with the lock held. */
static struct watched *watch(const char *path) {
    const char *dir = getenv("POWERCUT_DIR"), *shadow = getenv("POWERCUT_SHADOW");
    char resolved[PATH_MAX];
    if (!dir || !shadow || !realpath(path, resolved)) return NULL;
    size_t dl = strlen(dir);
    if (strncmp(resolved, dir, dl) != 0 || resolved[dl] != '/') return NULL;
    size_t rl = strlen(resolved);
    if (rl >= 4 && strcmp(resolved + rl - 4, "-shm") == 0) return NULL;
    for (size_t i = 0; i < n_files; i++)
        if (strcmp(files[i].path, resolved) == 0) return &files[i];
    if (n_files == MAX_FILES) die("too many watched files");
    struct watched *w = &files[n_files++];
    memset(w, 0, sizeof *w);
    snprintf(w->path, sizeof w->path, "%s", resolved);
    snprintf(w->image, sizeof w->image, "%s/%s", shadow, resolved + dl + 1);
    struct stat st;
    if (stat(w->image, &st) != 0) {
        /* First sight in this run: the image starts as the file is now. */
        int src = real_open(w->path, O_RDONLY), dst = real_open(w->image, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (src < 0 || dst < 0) die("create image");
        char buf[65536];
        ssize_t n;
        while ((n = read(src, buf, sizeof buf)) > 0)
            if (real_write(dst, buf, (size_t)n) != n) die("copy image");
        real_fsync(dst);
        real_close(src);
        real_close(dst);
    }
    return w;
}

static void track(int fd, const char *path) {
    if (fd < 0 || fd >= MAX_FDS) return;
    pthread_mutex_lock(&lock);
    struct watched *w = watch(path);
    fd_file[fd] = w ? (int)(w - files) + 1 : 0;
    pthread_mutex_unlock(&lock);
}

static struct watched *watched_fd(int fd) {
    if (fd < 0 || fd >= MAX_FDS || fd_file[fd] == 0) return NULL;
    return &files[fd_file[fd] - 1];
}

static void queue(int fd, enum op_kind kind, off_t offset, const void *data, size_t len) {
    pthread_mutex_lock(&lock);
    struct watched *w = watched_fd(fd);
    if (w) {
        if (w->n_ops == w->cap_ops) {
            w->cap_ops = w->cap_ops ? w->cap_ops * 2 : 64;
            w->ops = realloc(w->ops, w->cap_ops * sizeof *w->ops);
            if (!w->ops) die("queue");
        }
        struct op *o = &w->ops[w->n_ops++];
        o->kind = kind;
        o->offset = offset;
        o->len = len;
        o->data = NULL;
        if (kind == OP_WRITE) {
            o->data = malloc(len ? len : 1);
            if (!o->data) die("queue");
            memcpy(o->data, data, len);
        }
    }
    pthread_mutex_unlock(&lock);
}

/* What fsync makes durable: the file's queued writes, applied to its image in order. */
static void make_durable(int fd) {
    pthread_mutex_lock(&lock);
    struct watched *w = watched_fd(fd);
    if (w && w->n_ops) {
        int img = real_open(w->image, O_WRONLY | O_CREAT, 0644);
        if (img < 0) die("open image");
        for (size_t i = 0; i < w->n_ops; i++) {
            struct op *o = &w->ops[i];
            if (o->kind == OP_WRITE) {
                if (real_pwrite(img, o->data, o->len, o->offset) != (ssize_t)o->len) die("apply write");
                free(o->data);
            } else if (real_ftruncate(img, o->offset) != 0) {
                die("apply truncate");
            }
        }
        w->n_ops = 0;
        real_fsync(img);
        real_close(img);
    }
    pthread_mutex_unlock(&lock);
}

/* The mode argument of an open call, which is there only when the flags create a file. A macro,
 * as va_start must run in the variadic function itself. */
#define MODE_ARG(flags)                                                     \
    ({                                                                      \
        mode_t mode_ = 0;                                                   \
        if ((flags) & (O_CREAT | O_TMPFILE)) {                              \
            va_list ap_;                                                    \
            va_start(ap_, flags);                                           \
            mode_ = (mode_t)va_arg(ap_, int);                               \
            va_end(ap_);                                                    \
        }                                                                   \
        mode_;                                                              \
    })

/* `path` relative to `dirfd` (or the working directory) as a path of its own. */
static int at_path(int dirfd, const char *path, char *out) {
    if (path[0] == '/' || dirfd == AT_FDCWD) return snprintf(out, PATH_MAX, "%s", path), 0;
    char link[64], dir[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
    ssize_t n = readlink(link, dir, sizeof dir - 1);
    if (n < 0) return -1;
    dir[n] = 0;
    snprintf(out, PATH_MAX, "%s/%s", dir, path);
    return 0;
}

/* What every open wrapper does with the descriptor it got: watch it if its file is watched. */
static int opened(int fd, int dirfd, const char *path) {
    char full[PATH_MAX];
    if (fd >= 0 && at_path(dirfd, path, full) == 0) track(fd, full);
    return fd;
}

int open(const char *path, int flags, ...) {
    return opened(real_open(path, flags, MODE_ARG(flags)), AT_FDCWD, path);
}

int open64(const char *path, int flags, ...) {
    return opened(real_open64(path, flags, MODE_ARG(flags)), AT_FDCWD, path);
}

int openat(int dirfd, const char *path, int flags, ...) {
    return opened(real_openat(dirfd, path, flags, MODE_ARG(flags)), dirfd, path);
}

int openat64(int dirfd, const char *path, int flags, ...) {
    return opened(real_openat64(dirfd, path, flags, MODE_ARG(flags)), dirfd, path);
}

int close(int fd) {
    if (fd >= 0 && fd < MAX_FDS) {
        pthread_mutex_lock(&lock);
        fd_file[fd] = 0;
        pthread_mutex_unlock(&lock);
    }
    return real_close(fd);
}

ssize_t write(int fd, const void *buf, size_t n) {
    if (!watched_fd(fd)) return real_write(fd, buf, n);
    off_t at = lseek(fd, 0, SEEK_CUR);
    ssize_t done = real_write(fd, buf, n);
    if (done > 0) queue(fd, OP_WRITE, at, buf, (size_t)done);
    return done;
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t offset) {
    ssize_t done = real_pwrite(fd, buf, n, offset);
    if (done > 0) queue(fd, OP_WRITE, offset, buf, (size_t)done);
    return done;
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t offset) {
    ssize_t done = real_pwrite64(fd, buf, n, offset);
    if (done > 0) queue(fd, OP_WRITE, offset, buf, (size_t)done);
    return done;
}

int ftruncate(int fd, off_t len) {
    int r = real_ftruncate(fd, len);
    if (r == 0) queue(fd, OP_TRUNCATE, len, NULL, 0);
    return r;
}

int ftruncate64(int fd, off_t len) {
    int r = real_ftruncate64(fd, len);
    if (r == 0) queue(fd, OP_TRUNCATE, len, NULL, 0);
    return r;
}

int fsync(int fd) {
    int r = real_fsync(fd);
    if (r == 0) make_durable(fd);
    return r;
}

int fdatasync(int fd) {
    int r = real_fdatasync(fd);
    if (r == 0) make_durable(fd);
    return r;
}

int unlink(const char *path) {
    pthread_mutex_lock(&lock);
    struct watched *w = watch(path);
    if (w) {
        for (size_t i = 0; i < w->n_ops; i++) free(w->ops[i].data);
        w->n_ops = 0;
        real_unlink(w->image);
        /* Forget it, so a file created again under the name starts a fresh image. */
        w->path[0] = 0;
    }
    pthread_mutex_unlock(&lock);
    return real_unlink(path);
}
