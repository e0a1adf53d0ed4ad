// ncursesw behind typed shims: macros (COLOR_PAIR, A_BOLD, KEY_RESIZE, stdscr) are not imported
// by Swift, so each is wrapped here. Names are prefixed cncurses_.
#ifndef CNCURSES_SHIM_H
#define CNCURSES_SHIM_H
#define NCURSES_WIDECHAR 1
#include <locale.h>
#include <stdio.h>
#include <ncurses.h>

static inline WINDOW *cncurses_stdscr(void) { return stdscr; }
static inline int cncurses_color_pair(int n) { return (int)COLOR_PAIR(n); }
static inline int cncurses_a_bold(void) { return (int)A_BOLD; }
static inline int cncurses_a_reverse(void) { return (int)A_REVERSE; }
static inline int cncurses_a_dim(void) { return (int)A_DIM; }
static inline int cncurses_a_normal(void) { return (int)A_NORMAL; }
static inline int cncurses_key_resize(void) { return KEY_RESIZE; }
static inline int cncurses_cols(void) { return getmaxx(stdscr); }
static inline int cncurses_lines(void) { return getmaxy(stdscr); }
static inline int cncurses_put(int y, int x, const char *utf8, int attrs) {
    attrset(attrs);
    return mvaddstr(y, x, utf8);
}
static inline SCREEN *cncurses_newterm(void) { return newterm(NULL, stdout, stdin); }
static inline int cncurses_setup(int use_color) {
    cbreak();
    noecho();
    keypad(stdscr, TRUE);
    timeout(100);
    curs_set(0);
    if (use_color && has_colors()) {
        start_color();
        use_default_colors();
        init_pair(1, COLOR_RED, -1);
        init_pair(2, COLOR_GREEN, -1);
        init_pair(3, COLOR_YELLOW, -1);
        init_pair(4, COLOR_BLUE, -1);
        init_pair(5, COLOR_MAGENTA, -1);
        init_pair(6, COLOR_CYAN, -1);
        init_pair(7, COLOR_WHITE, -1);
        return 1;
    }
    return 0;
}
#endif
