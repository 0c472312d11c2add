/*
 * pocketsphinx-engine: recogniser sessions for the rxjs-transcribe reference
 * server (src/server/engines/pocketsphinx.ts).
 *
 * Two ways to run:
 *   pocketsphinx-engine [--samprate N] [--words 0|1] [--hmm D] [--lm F] [--dict F]
 *       one session on stdin/stdout, loading the model itself.
 *   pocketsphinx-engine --listen PATH [--hmm D] [--lm F] [--dict F]
 *       a pool: loads the 16 kHz model once, listens on the Unix socket PATH
 *       and forks one child per connection, which runs one session on that
 *       connection with the model's pages shared copy-on-write. The pool writes
 *       "R\n" on stdout once it listens, and "X <pid> <status> <signal>\n" when
 *       a child ends; a child first writes "P <pid>\n" on its connection. When
 *       stdin closes (the server went away) the pool exits, and its children
 *       die with it (PR_SET_PDEATHSIG).
 *
 * A session's input, a sequence of messages: one type byte, a 4-byte
 * little-endian length, then that many bytes.
 *   'O'  options, before any audio: lines "words 0|1", "alternatives N",
 *        "phrase <words>" (a phrase list: a grammar-restricted search)
 *   'A'  16-bit little-endian mono PCM (an even number of bytes)
 *   'R'  reset: end the utterance, reply its final; the session goes on
 *   'E'  end of stream (length 0)
 * Output: exactly one line per input message: "{}" for 'O', else Vosk-protocol
 * JSON, {"partial": "..."} or {"result": [...], "text": "..."} (or {"text": ""},
 * or {"alternatives": [...]} with alternatives). A line starting with '!' is
 * an error; the session then exits with status 2. After the reply to 'E' the
 * session exits with status 0.
 *
 * Audio is fed to the decoder in blocks of 2048 samples and utterances are cut
 * where ps_get_in_speech() falls, exactly as pocketsphinx_continuous -infile
 * does, so that the finals are the words that program prints for the same
 * audio, whatever frame sizes the client chose.
 */
#define _GNU_SOURCE
#include <pocketsphinx.h>
#include <sphinxbase/ckd_alloc.h>
#include <sphinxbase/err.h>

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define BLOCK_SAMPLES 2048
/* More alternatives than this are not computed (the A* search grows with N). */
#define MAX_ALTERNATIVES 100
/* N-best paths looked at per alternative asked for: paths differing only in fillers repeat a text. */
#define NBEST_TRIES_PER_ALTERNATIVE 20

typedef struct {
    char *data;
    size_t len, cap;
} strbuf_t;

static void sb_reserve(strbuf_t *sb, size_t extra) {
    if (sb->len + extra + 1 <= sb->cap) return;
    size_t cap = sb->cap ? sb->cap : 256;
    while (cap < sb->len + extra + 1) cap *= 2;
    char *data = realloc(sb->data, cap);
    if (data == NULL) {
        fprintf(stderr, "pocketsphinx-engine: out of memory\n");
        exit(3);
    }
    sb->data = data;
    sb->cap = cap;
}

static void sb_append(strbuf_t *sb, const char *s, size_t n) {
    sb_reserve(sb, n);
    memcpy(sb->data + sb->len, s, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
}

static void sb_puts(strbuf_t *sb, const char *s) { sb_append(sb, s, strlen(s)); }

static void sb_json_string(strbuf_t *sb, const char *s, size_t n) {
    sb_append(sb, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            sb_append(sb, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            sb_append(sb, esc, 6);
        } else {
            sb_append(sb, (const char *)&s[i], 1);
        }
    }
    sb_append(sb, "\"", 1);
}

/* One alternative of the utterances since the last reply. */
typedef struct {
    strbuf_t words; /* JSON objects, comma separated */
    strbuf_t text;  /* words separated by single spaces */
    double score;   /* natural-log path score, summed over utterances */
} alternative_t;

/* Words of the utterances that ended since the last reply. */
static strbuf_t pending_words; /* JSON objects, comma separated */
static strbuf_t pending_text;  /* words separated by single spaces */
static int pending_utterances = 0;
/* With alternatives: the pending alternatives, and how many of them hold something. */
static alternative_t pending_alts[MAX_ALTERNATIVES];
static int pending_alt_count = 0;

static ps_decoder_t *ps;
static int frame_rate;
static int with_words;
static int max_alternatives = 0;
static uint8_t utt_started = 0;
static FILE *out_file;

/* A filler, sentence marker or grammar null arc, not a word: <s>, </s>, <sil>, [NOISE], (NULL) */
static int is_filler(const char *word) { return word[0] == '<' || word[0] == '[' || word[0] == '('; }

/* Length of a dictionary word without its alternate-pronunciation suffix "(2)". */
static size_t base_length(const char *word) {
    size_t n = strlen(word);
    if (n > 3 && word[n - 1] == ')') {
        const char *open = strrchr(word, '(');
        if (open != NULL && open != word) return (size_t)(open - word);
    }
    return n;
}

/* Appends the words of a segmentation as JSON objects; `conf` adds each word's posterior. */
static void append_segments(strbuf_t *out, ps_seg_t *seg, int conf) {
    logmath_t *lmath = ps_get_logmath(ps);
    for (; seg != NULL; seg = ps_seg_next(seg)) {
        const char *word = ps_seg_word(seg);
        if (is_filler(word)) continue;
        int sf, ef;
        ps_seg_frames(seg, &sf, &ef);
        char num[160];
        if (out->len > 0) sb_puts(out, ", ");
        sb_puts(out, "{\"word\": ");
        sb_json_string(out, word, base_length(word));
        if (conf) {
            /* A posterior of log 0 comes back from the log table as a hair over 1 (1.0002). */
            double p = logmath_exp(lmath, ps_seg_prob(seg, NULL, NULL, NULL));
            if (p > 1.0) p = 1.0;
            if (p < 0.0) p = 0.0;
            snprintf(num, sizeof num, ", \"start\": %.3f, \"end\": %.3f, \"conf\": %.6f}",
                     (double)sf / frame_rate, (double)(ef + 1) / frame_rate, p);
        } else {
            snprintf(num, sizeof num, ", \"start\": %.3f, \"end\": %.3f}", (double)sf / frame_rate,
                     (double)(ef + 1) / frame_rate);
        }
        sb_puts(out, num);
    }
}

/*
 * The utterance's N-best list (ps_nbest), texts kept once each, best first,
 * appended to the pending alternatives: alternative k of a reply joins
 * alternative k of each utterance (or that utterance's last, when it has fewer).
 */
static void collect_alternatives(void) {
    alternative_t found[MAX_ALTERNATIVES];
    int count = 0;
    memset(found, 0, sizeof found);
    logmath_t *lmath = ps_get_logmath(ps);
    int tries = max_alternatives * NBEST_TRIES_PER_ALTERNATIVE;
    for (ps_nbest_t *nb = ps_nbest(ps); nb != NULL; nb = ps_nbest_next(nb)) {
        if (count == max_alternatives || tries-- == 0) {
            ps_nbest_free(nb);
            break;
        }
        int32 score = 0;
        const char *hyp = ps_nbest_hyp(nb, &score);
        if (hyp == NULL) continue;
        int seen = 0;
        for (int i = 0; i < count && !seen; i++) seen = strcmp(found[i].text.data, hyp) == 0;
        if (seen) continue;
        sb_puts(&found[count].text, hyp);
        found[count].score = logmath_log_to_ln(lmath, score);
        if (with_words) {
            ps_seg_t *seg = ps_nbest_seg(nb);
            append_segments(&found[count].words, seg, 0);
        }
        count++;
    }
    if (count == 0 || found[0].text.len == 0) {
        for (int i = 0; i < count; i++) {
            free(found[i].text.data);
            free(found[i].words.data);
        }
        return; /* nothing said: the utterance adds no words */
    }
    int total = count > pending_alt_count ? count : pending_alt_count;
    for (int k = 0; k < total; k++) {
        alternative_t *to = &pending_alts[k];
        if (k >= pending_alt_count && pending_alt_count > 0) {
            /* This utterance has more alternatives than those before: start from their last. */
            alternative_t *last = &pending_alts[pending_alt_count - 1];
            to->text.len = to->words.len = 0;
            if (last->text.len) sb_append(&to->text, last->text.data, last->text.len);
            if (last->words.len) sb_append(&to->words, last->words.data, last->words.len);
            to->score = last->score;
        }
        alternative_t *from = &found[k < count ? k : count - 1];
        if (from->text.len > 0) {
            if (to->text.len > 0) sb_puts(&to->text, " ");
            sb_append(&to->text, from->text.data, from->text.len);
        }
        if (from->words.len > 0) {
            if (to->words.len > 0) sb_puts(&to->words, ", ");
            sb_append(&to->words, from->words.data, from->words.len);
        }
        to->score += from->score;
    }
    pending_alt_count = total;
    for (int i = 0; i < count; i++) {
        free(found[i].text.data);
        free(found[i].words.data);
    }
}

static void collect_utterance(void) {
    pending_utterances++;
    if (max_alternatives > 0) {
        collect_alternatives();
        return;
    }
    const char *hyp = ps_get_hyp(ps, NULL);
    if (hyp != NULL && hyp[0] != '\0') {
        if (pending_text.len > 0) sb_puts(&pending_text, " ");
        sb_puts(&pending_text, hyp);
    }
    if (with_words) append_segments(&pending_words, ps_seg_iter(ps), 1);
}

/* Mirrors one pass of pocketsphinx_continuous's read loop. */
static void process_block(const int16 *samples, size_t n) {
    ps_process_raw(ps, samples, n, FALSE, FALSE);
    uint8 in_speech = ps_get_in_speech(ps);
    if (in_speech && !utt_started) utt_started = TRUE;
    if (!in_speech && utt_started) {
        ps_end_utt(ps);
        collect_utterance();
        ps_start_utt(ps);
        utt_started = FALSE;
    }
}

static void write_line(strbuf_t *out) {
    fwrite(out->data, 1, out->len, out_file);
    fflush(out_file);
    free(out->data);
}

static void write_alternatives(strbuf_t *out) {
    sb_puts(out, "{\"alternatives\": [");
    if (pending_alt_count == 0) sb_puts(out, "{\"text\": \"\", \"confidence\": 1.0}");
    for (int k = 0; k < pending_alt_count; k++) {
        alternative_t *alt = &pending_alts[k];
        char num[64];
        if (k > 0) sb_puts(out, ", ");
        sb_puts(out, "{\"text\": ");
        sb_json_string(out, alt->text.data ? alt->text.data : "", alt->text.len);
        snprintf(num, sizeof num, ", \"confidence\": %.3f", alt->score);
        sb_puts(out, num);
        if (with_words && alt->words.len > 0) {
            sb_puts(out, ", \"result\": [");
            sb_append(out, alt->words.data, alt->words.len);
            sb_puts(out, "]");
        }
        sb_puts(out, "}");
        alt->text.len = alt->words.len = 0;
        alt->score = 0;
    }
    sb_puts(out, "]}\n");
    pending_alt_count = 0;
}

static void write_reply(int final) {
    strbuf_t out = {0};
    if (pending_utterances > 0 || final) {
        if (max_alternatives > 0) {
            write_alternatives(&out);
        } else if (with_words && pending_words.len > 0) {
            sb_puts(&out, "{\"result\": [");
            sb_append(&out, pending_words.data, pending_words.len);
            sb_puts(&out, "], \"text\": ");
        } else {
            sb_puts(&out, "{\"text\": ");
        }
        if (max_alternatives == 0) {
            sb_json_string(&out, pending_text.data ? pending_text.data : "", pending_text.len);
            sb_puts(&out, "}\n");
        }
        pending_words.len = pending_text.len = 0;
        pending_utterances = 0;
    } else {
        const char *hyp = utt_started ? ps_get_hyp(ps, NULL) : NULL;
        sb_puts(&out, "{\"partial\": ");
        sb_json_string(&out, hyp ? hyp : "", hyp ? strlen(hyp) : 0);
        sb_puts(&out, "}\n");
    }
    write_line(&out);
}

/* Reports an error on the output line and ends the session. */
static void session_error(const char *what) {
    fprintf(out_file, "!%s\n", what);
    fflush(out_file);
    fprintf(stderr, "pocketsphinx-engine: %s\n", what);
    exit(2);
}

static int read_exact(FILE *in, void *buf, size_t n) {
    size_t got = fread(buf, 1, n, in);
    return got == n;
}

/*
 * A phrase list as a JSGF grammar, "public <phrases> = ( a b | c ) +;": any
 * sequence of the phrases. Words are lower-cased; words missing from the
 * dictionary are left out (as Vosk does), and so are phrases left empty.
 * Returns 0 when no phrase has a known word.
 */
static int phrase_grammar(const char *phrases, strbuf_t *jsgf) {
    strbuf_t body = {0};
    int kept = 0;
    const char *line = phrases;
    while (*line) {
        const char *eol = strchr(line, '\n');
        size_t n = eol ? (size_t)(eol - line) : strlen(line);
        strbuf_t phrase = {0};
        size_t i = 0;
        while (i < n) {
            while (i < n && isspace((unsigned char)line[i])) i++;
            size_t start = i;
            while (i < n && !isspace((unsigned char)line[i])) i++;
            if (i == start) break;
            char word[256];
            size_t len = i - start < sizeof word - 1 ? i - start : sizeof word - 1;
            for (size_t j = 0; j < len; j++) word[j] = (char)tolower((unsigned char)line[start + j]);
            word[len] = '\0';
            /* JSGF syntax characters would break the grammar; no dictionary word has them. */
            if (strpbrk(word, "<>|()[]{}*+;=/\\\"") != NULL) continue;
            char *pron = ps_lookup_word(ps, word);
            if (pron == NULL) continue;
            ckd_free(pron);
            if (phrase.len > 0) sb_puts(&phrase, " ");
            sb_puts(&phrase, word);
        }
        if (phrase.len > 0) {
            if (kept++ > 0) sb_puts(&body, " | ");
            sb_append(&body, phrase.data, phrase.len);
        }
        free(phrase.data);
        line += n + (eol ? 1 : 0);
    }
    if (kept > 0) {
        sb_puts(jsgf, "#JSGF V1.0;\ngrammar phrases;\npublic <phrases> = ( ");
        sb_append(jsgf, body.data, body.len);
        sb_puts(jsgf, " ) +;\n");
    }
    free(body.data);
    return kept;
}

/* Applies an 'O' message: "words 0|1", "alternatives N", "phrase ..." lines. */
static void apply_options(char *text) {
    strbuf_t phrases = {0};
    int have_phrases = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "words ", 6) == 0) with_words = atoi(line + 6) != 0;
        else if (strncmp(line, "alternatives ", 13) == 0) {
            int n = atoi(line + 13);
            max_alternatives = n < 0 ? 0 : n > MAX_ALTERNATIVES ? MAX_ALTERNATIVES : n;
        } else if (strncmp(line, "phrase ", 7) == 0) {
            have_phrases = 1;
            sb_puts(&phrases, line + 7);
            sb_puts(&phrases, "\n");
        } else if (line[0] != '\0') session_error("unknown option");
    }
    if (have_phrases) {
        strbuf_t jsgf = {0};
        /* No known word at all: the full language model stays, as if no list were given. */
        if (phrase_grammar(phrases.data, &jsgf) > 0) {
            if (ps_set_jsgf_string(ps, "phrases", jsgf.data) < 0 || ps_set_search(ps, "phrases") < 0)
                session_error("could not build a grammar from the phrase list");
        }
        free(jsgf.data);
    }
    free(phrases.data);
}

/* One session over `in` and `out` with the decoder `ps`; returns the exit status. */
static int run_session(FILE *in, FILE *out) {
    out_file = out;
    int16 block[BLOCK_SAMPLES];
    size_t filled = 0; /* samples waiting in block */
    uint8_t *payload = NULL;
    size_t payload_cap = 0;
    int started = 0;

    for (;;) {
        unsigned char header[5];
        if (!read_exact(in, header, 5)) {
            if (feof(in)) return 0; /* the server went away: nothing to answer */
            fprintf(stderr, "pocketsphinx-engine: read error: %s\n", strerror(errno));
            return 1;
        }
        uint32_t len = (uint32_t)header[1] | ((uint32_t)header[2] << 8) | ((uint32_t)header[3] << 16) |
                       ((uint32_t)header[4] << 24);
        if (len + 1 > payload_cap) {
            payload = realloc(payload, len + 1);
            if (payload == NULL) {
                fprintf(stderr, "pocketsphinx-engine: out of memory for a %u-byte frame\n", len);
                return 3;
            }
            payload_cap = len + 1;
        }
        if (len > 0 && !read_exact(in, payload, len)) {
            fprintf(stderr, "pocketsphinx-engine: truncated message\n");
            return 1;
        }
        if (header[0] == 'O') {
            if (started) session_error("options after audio");
            payload[len] = '\0';
            apply_options((char *)payload);
            fputs("{}\n", out);
            fflush(out);
            continue;
        }
        if (!started) {
            ps_start_utt(ps);
            started = 1;
        }
        if (header[0] == 'A') {
            if (len % 2 != 0) {
                fprintf(stderr, "pocketsphinx-engine: odd-length audio message\n");
                return 1;
            }
            for (size_t i = 0; i + 1 < len; i += 2) {
                block[filled++] = (int16)(uint16_t)(payload[i] | (payload[i + 1] << 8));
                if (filled == BLOCK_SAMPLES) {
                    process_block(block, filled);
                    filled = 0;
                }
            }
            write_reply(0);
        } else if (header[0] == 'R') {
            /* As at the end of the stream, but the decoder starts a new utterance and
               keeps counting frames from the start of the stream, as Vosk's does. */
            if (filled > 0) process_block(block, filled);
            filled = 0;
            ps_end_utt(ps);
            if (utt_started) collect_utterance();
            write_reply(1);
            ps_start_utt(ps);
            utt_started = FALSE;
        } else if (header[0] == 'E') {
            if (filled > 0) process_block(block, filled);
            ps_end_utt(ps);
            if (utt_started) collect_utterance();
            write_reply(1);
            free(payload);
            return 0;
        } else {
            fprintf(stderr, "pocketsphinx-engine: unknown message type 0x%02x\n", header[0]);
            return 1;
        }
    }
}

/* Self-pipe: SIGCHLD wakes the pool's poll(). */
static int child_pipe[2];

static void on_sigchld(int sig) {
    (void)sig;
    int saved = errno;
    ssize_t ignored = write(child_pipe[1], "c", 1);
    (void)ignored;
    errno = saved;
}

/* Reports every child that ended: "X <pid> <status> <signal>". */
static void reap_children(void) {
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
        printf("X %d %d %d\n", (int)pid, code, sig);
        fflush(stdout);
    }
}

/* The forked child: one session on the accepted connection. */
static void run_child(int conn, int listener, pid_t pool, const char *name) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != pool) _exit(1); /* the pool died between fork and prctl */
    prctl(PR_SET_NAME, name);
    signal(SIGCHLD, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    close(listener);
    close(child_pipe[0]);
    close(child_pipe[1]);
    close(STDIN_FILENO);
    FILE *in = fdopen(conn, "rb");
    FILE *out = fdopen(dup(conn), "wb");
    if (in == NULL || out == NULL) _exit(1);
    fprintf(out, "P %d\n", (int)getpid());
    fflush(out);
    fclose(stdout);
    int status = run_session(in, out);
    fflush(out);
    _exit(status);
}

/* Children keep the binary's name; the pool shows its own (set before the model loads). */
static char child_name[17];

static int run_pool(const char *path) {
    const char *name = child_name;
    pid_t pool = getpid();

    int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr = {0};
    addr.sun_family = AF_UNIX;
    if (listener < 0 || strlen(path) >= sizeof addr.sun_path) {
        fprintf(stderr, "pocketsphinx-engine: cannot listen on %s\n", path);
        return 2;
    }
    strcpy(addr.sun_path, path);
    unlink(path);
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(listener, 128) < 0) {
        fprintf(stderr, "pocketsphinx-engine: cannot listen on %s: %s\n", path, strerror(errno));
        return 2;
    }
    if (pipe(child_pipe) < 0) return 2;
    struct sigaction sa = {0};
    sa.sa_handler = on_sigchld;
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    printf("R\n");
    fflush(stdout);
    for (;;) {
        struct pollfd fds[3] = {
            {.fd = listener, .events = POLLIN},
            {.fd = STDIN_FILENO, .events = POLLIN},
            {.fd = child_pipe[0], .events = POLLIN},
        };
        if (poll(fds, 3, -1) < 0) {
            if (errno == EINTR) continue;
            return 1;
        }
        if (fds[2].revents & POLLIN) {
            char drain[64];
            ssize_t ignored = read(child_pipe[0], drain, sizeof drain);
            (void)ignored;
            reap_children();
        }
        if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            char drain[64];
            if (read(STDIN_FILENO, drain, sizeof drain) <= 0) break; /* the server went away */
        }
        if (fds[0].revents & POLLIN) {
            int conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
            if (conn < 0) continue;
            fflush(stdout);
            pid_t pid = fork();
            if (pid == 0) run_child(conn, listener, pool, name);
            close(conn);
            if (pid < 0) fprintf(stderr, "pocketsphinx-engine: fork failed: %s\n", strerror(errno));
        }
    }
    unlink(path);
    return 0;
}

int main(int argc, char **argv) {
    int samprate = 16000;
    const char *hmm = NULL, *lm = NULL, *dict = NULL, *listen_path = NULL;
    int verbose = 0;
    with_words = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--samprate") == 0 && i + 1 < argc) samprate = atoi(argv[++i]);
        else if (strcmp(argv[i], "--words") == 0 && i + 1 < argc) with_words = atoi(argv[++i]);
        else if (strcmp(argv[i], "--hmm") == 0 && i + 1 < argc) hmm = argv[++i];
        else if (strcmp(argv[i], "--lm") == 0 && i + 1 < argc) lm = argv[++i];
        else if (strcmp(argv[i], "--dict") == 0 && i + 1 < argc) dict = argv[++i];
        else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) listen_path = argv[++i];
        else if (strcmp(argv[i], "--verbose") == 0) verbose = 1;
        else {
            fprintf(stderr, "pocketsphinx-engine: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (!verbose) err_set_logfp(NULL);
    if (listen_path != NULL) {
        prctl(PR_GET_NAME, child_name);
        prctl(PR_SET_NAME, "ps-engine-pool");
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* the server's process went: so does the pool */
        if (getppid() == 1) return 1;
    }

    char rate[16];
    snprintf(rate, sizeof rate, "%d", samprate);
    cmd_ln_t *config = cmd_ln_init(NULL, ps_args(), TRUE, "-samprate", rate, NULL);
    if (config == NULL) {
        fprintf(stderr, "pocketsphinx-engine: bad configuration\n");
        return 2;
    }
    if (hmm) cmd_ln_set_str_r(config, "-hmm", hmm);
    if (lm) cmd_ln_set_str_r(config, "-lm", lm);
    if (dict) cmd_ln_set_str_r(config, "-dict", dict);
    ps_default_search_args(config);
    ps = ps_init(config);
    if (ps == NULL) {
        fprintf(stderr, "pocketsphinx-engine: could not load the model (is pocketsphinx-en-us installed?)\n");
        return 2;
    }
    frame_rate = cmd_ln_int32_r(config, "-frate");

    if (listen_path != NULL) return run_pool(listen_path);
    int status = run_session(stdin, stdout);
    ps_free(ps);
    cmd_ln_free_r(config);
    return status;
}
