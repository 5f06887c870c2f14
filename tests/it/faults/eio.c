/* A failing disk for one process, as libfiu and CharybdeFS make one: loaded with LD_PRELOAD,
 * it makes writes and syncs fail with EIO on the files a control file names, while that file
 * exists. The control file (its path in EIO_CONTROL) holds one line, "<path part> <what>":
 * every file whose path contains <path part> fails "write" (write, pwrite, writev), "sync"
 * (fsync, fdatasync: the data stays in the page cache, as after a real failed writeback) or
 * "all" of them. Without the file, every call goes straight through. Built by tests/it/faults/eio.rs
 * with the system's C compiler; never part of maiimg. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum what { WRITE = 1, SYNC = 2 };

/* Whether an operation of kind `kind` on `fd` must fail now. errno is kept for callers that
 * go through. */
static int failing(int fd, int kind) {
    const char *control = getenv("EIO_CONTROL");
    if (control == NULL) return 0;
    int saved = errno;
    struct stat st;
    int fail = 0;
    if (stat(control, &st) == 0) {
        char line[512] = {0};
        int cfd = open(control, O_RDONLY | O_CLOEXEC);
        if (cfd >= 0) {
            ssize_t n = read(cfd, line, sizeof line - 1);
            close(cfd);
            char part[400] = {0}, how[16] = {0};
            if (n > 0 && sscanf(line, "%399s %15s", part, how) == 2) {
                int kinds = strcmp(how, "all") == 0 ? (WRITE | SYNC)
                            : strcmp(how, "sync") == 0 ? SYNC
                            : strcmp(how, "write") == 0 ? WRITE : 0;
                if (kinds & kind) {
                    char link[64], target[4096];
                    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
                    ssize_t len = readlink(link, target, sizeof target - 1);
                    if (len > 0) {
                        target[len] = 0;
                        fail = strstr(target, part) != NULL;
                    }
                }
            }
        }
    }
    errno = saved;
    return fail;
}

#define NEXT(name) static __typeof__(name) *next; if (!next) next = dlsym(RTLD_NEXT, #name)

ssize_t write(int fd, const void *buf, size_t count) {
    NEXT(write);
    if (failing(fd, WRITE)) { errno = EIO; return -1; }
    return next(fd, buf, count);
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset) {
    NEXT(pwrite);
    if (failing(fd, WRITE)) { errno = EIO; return -1; }
    return next(fd, buf, count, offset);
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off_t offset) {
    NEXT(pwrite64);
    if (failing(fd, WRITE)) { errno = EIO; return -1; }
    return next(fd, buf, count, offset);
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt) {
    NEXT(writev);
    if (failing(fd, WRITE)) { errno = EIO; return -1; }
    return next(fd, iov, iovcnt);
}

int fsync(int fd) {
    NEXT(fsync);
    if (failing(fd, SYNC)) { errno = EIO; return -1; }
    return next(fd);
}

int fdatasync(int fd) {
    NEXT(fdatasync);
    if (failing(fd, SYNC)) { errno = EIO; return -1; }
    return next(fd);
}
