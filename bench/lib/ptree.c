/* ptree ROOT_PID: one line about a process and all its descendants, read from /proc:
 *   cpu_s=<utime+stime of each live process, plus cutime+cstime (its reaped children)> rss_kib=<sum VmRSS>
 *   hwm_kib=<sum VmHWM (each process's peak)> n=<processes>
 * Exit 1 when ROOT_PID does not exist. Used by the bench/ scripts (a shell loop over /proc is too slow under
 * the VM's emulated CPU). Build: gcc -O2 -o ptree ptree.c */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXP 65536
static int pids[MAXP], ppids[MAXP];
static unsigned long long ticks[MAXP];

static long status_kib(int pid, const char *key) {
    char path[64], line[256];
    size_t kl = strlen(key);
    long v = 0;
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, kl)) { v = strtol(line + kl, NULL, 10); break; }
    fclose(f);
    return v;
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: ptree PID\n"); return 2; }
    int root = atoi(argv[1]), n = 0, found = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d)) && n < MAXP) {
        if (!isdigit((unsigned char)e->d_name[0])) continue;
        char path[300], buf[1024];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = 0;
        char *p = strrchr(buf, ')');
        if (!p) continue;
        /* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime */
        char state; int ppid; unsigned long long ut, st, cut, cst;
        if (sscanf(p + 2, "%c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu", &state, &ppid, &ut, &st, &cut, &cst) != 6) continue;
        pids[n] = atoi(e->d_name); ppids[n] = ppid; ticks[n] = ut + st + cut + cst;
        if (pids[n] == root) found = 1;
        n++;
    }
    if (d) closedir(d);
    if (!found) return 1;
    static char in[MAXP];
    int changed = 1;
    for (int i = 0; i < n; i++) in[i] = pids[i] == root;
    while (changed) {
        changed = 0;
        for (int i = 0; i < n; i++) {
            if (in[i]) continue;
            for (int j = 0; j < n; j++)
                if (in[j] && pids[j] == ppids[i]) { in[i] = 1; changed = 1; break; }
        }
    }
    unsigned long long t = 0; long rss = 0, hwm = 0; int count = 0;
    for (int i = 0; i < n; i++) {
        if (!in[i]) continue;
        t += ticks[i]; rss += status_kib(pids[i], "VmRSS:"); hwm += status_kib(pids[i], "VmHWM:"); count++;
    }
    printf("cpu_s=%.2f rss_kib=%ld hwm_kib=%ld n=%d\n", (double)t / sysconf(_SC_CLK_TCK), rss, hwm, count);
    return 0;
}
