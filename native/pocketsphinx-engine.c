/*
 * pocketsphinx-engine: one recogniser session, driven over stdin/stdout by the
 * rxjs-transcribe reference server (src/server/engines/pocketsphinx.ts).
 *
 * Input on stdin, a sequence of messages: one type byte, a 4-byte little-endian
 * length, then that many bytes.
 *   'A'  16-bit little-endian mono PCM (an even number of bytes)
 *   'E'  end of stream (length 0)
 * Output on stdout: exactly one line of Vosk-protocol JSON per input message,
 * {"partial": "..."} or {"result": [...], "text": "..."} (or {"text": ""}).
 * After the reply to 'E' the process exits with status 0.
 *
 * Audio is fed to the decoder in blocks of 2048 samples and utterances are cut
 * where ps_get_in_speech() falls, exactly as pocketsphinx_continuous -infile
 * does, so that the finals are the words that program prints for the same
 * audio, whatever frame sizes the client chose.
 */
#include <pocketsphinx.h>
#include <sphinxbase/err.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_SAMPLES 2048

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

/* Words of the utterances that ended since the last reply. */
static strbuf_t pending_words; /* JSON objects, comma separated */
static strbuf_t pending_text;  /* words separated by single spaces */
static int pending_utterances = 0;

static ps_decoder_t *ps;
static int frame_rate;
static int with_words;
static uint8_t utt_started = 0;

/* A filler or sentence marker, not a word: <s>, </s>, <sil>, [NOISE], ... */
static int is_filler(const char *word) { return word[0] == '<' || word[0] == '['; }

/* Length of a dictionary word without its alternate-pronunciation suffix "(2)". */
static size_t base_length(const char *word) {
    size_t n = strlen(word);
    if (n > 3 && word[n - 1] == ')') {
        const char *open = strrchr(word, '(');
        if (open != NULL && open != word) return (size_t)(open - word);
    }
    return n;
}

static void collect_utterance(void) {
    const char *hyp = ps_get_hyp(ps, NULL);
    pending_utterances++;
    if (hyp != NULL && hyp[0] != '\0') {
        if (pending_text.len > 0) sb_puts(&pending_text, " ");
        sb_puts(&pending_text, hyp);
    }
    if (!with_words) return;
    logmath_t *lmath = ps_get_logmath(ps);
    for (ps_seg_t *seg = ps_seg_iter(ps); seg != NULL; seg = ps_seg_next(seg)) {
        const char *word = ps_seg_word(seg);
        if (is_filler(word)) continue;
        int sf, ef;
        ps_seg_frames(seg, &sf, &ef);
        double conf = logmath_exp(lmath, ps_seg_prob(seg, NULL, NULL, NULL));
        char num[160];
        if (pending_words.len > 0) sb_puts(&pending_words, ", ");
        sb_puts(&pending_words, "{\"word\": ");
        sb_json_string(&pending_words, word, base_length(word));
        snprintf(num, sizeof num, ", \"start\": %.3f, \"end\": %.3f, \"conf\": %.6f}",
                 (double)sf / frame_rate, (double)(ef + 1) / frame_rate, conf);
        sb_puts(&pending_words, num);
    }
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

static void write_reply(int final) {
    strbuf_t out = {0};
    if (pending_utterances > 0 || final) {
        if (with_words && pending_words.len > 0) {
            sb_puts(&out, "{\"result\": [");
            sb_append(&out, pending_words.data, pending_words.len);
            sb_puts(&out, "], \"text\": ");
        } else {
            sb_puts(&out, "{\"text\": ");
        }
        sb_json_string(&out, pending_text.data ? pending_text.data : "", pending_text.len);
        sb_puts(&out, "}\n");
        pending_words.len = pending_text.len = 0;
        pending_utterances = 0;
    } else {
        const char *hyp = utt_started ? ps_get_hyp(ps, NULL) : NULL;
        sb_puts(&out, "{\"partial\": ");
        sb_json_string(&out, hyp ? hyp : "", hyp ? strlen(hyp) : 0);
        sb_puts(&out, "}\n");
    }
    fwrite(out.data, 1, out.len, stdout);
    fflush(stdout);
    free(out.data);
}

static int read_exact(void *buf, size_t n) {
    size_t got = fread(buf, 1, n, stdin);
    return got == n;
}

int main(int argc, char **argv) {
    int samprate = 16000;
    const char *hmm = NULL, *lm = NULL, *dict = NULL;
    int verbose = 0;
    with_words = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--samprate") == 0 && i + 1 < argc) samprate = atoi(argv[++i]);
        else if (strcmp(argv[i], "--words") == 0 && i + 1 < argc) with_words = atoi(argv[++i]);
        else if (strcmp(argv[i], "--hmm") == 0 && i + 1 < argc) hmm = argv[++i];
        else if (strcmp(argv[i], "--lm") == 0 && i + 1 < argc) lm = argv[++i];
        else if (strcmp(argv[i], "--dict") == 0 && i + 1 < argc) dict = argv[++i];
        else if (strcmp(argv[i], "--verbose") == 0) verbose = 1;
        else {
            fprintf(stderr, "pocketsphinx-engine: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (!verbose) err_set_logfp(NULL);

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

    int16 block[BLOCK_SAMPLES];
    size_t filled = 0; /* samples waiting in block */
    uint8_t *payload = NULL;
    size_t payload_cap = 0;

    ps_start_utt(ps);
    for (;;) {
        unsigned char header[5];
        if (!read_exact(header, 5)) {
            if (feof(stdin)) return 0; /* the server went away: nothing to answer */
            fprintf(stderr, "pocketsphinx-engine: read error: %s\n", strerror(errno));
            return 1;
        }
        uint32_t len = (uint32_t)header[1] | ((uint32_t)header[2] << 8) | ((uint32_t)header[3] << 16) |
                       ((uint32_t)header[4] << 24);
        if (len > payload_cap) {
            payload = realloc(payload, len);
            if (payload == NULL) {
                fprintf(stderr, "pocketsphinx-engine: out of memory for a %u-byte frame\n", len);
                return 3;
            }
            payload_cap = len;
        }
        if (len > 0 && !read_exact(payload, len)) {
            fprintf(stderr, "pocketsphinx-engine: truncated message\n");
            return 1;
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
        } else if (header[0] == 'E') {
            if (filled > 0) process_block(block, filled);
            ps_end_utt(ps);
            if (utt_started) collect_utterance();
            write_reply(1);
            ps_free(ps);
            cmd_ln_free_r(config);
            free(payload);
            return 0;
        } else {
            fprintf(stderr, "pocketsphinx-engine: unknown message type 0x%02x\n", header[0]);
            return 1;
        }
    }
}
