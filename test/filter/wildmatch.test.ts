/**
 * git's wildmatch: the vectors of git's t/t3070-wildmatch.sh (text, pattern, result with
 * WM_PATHNAME as .gitignore path rules use it, result without as basename rules use it), case
 * sensitive, as git's function itself answers them.
 */
import { describe, expect, it } from 'vitest';
import { wildmatch } from '../../src/filter/index.js';

const enc = new TextEncoder();

// text TAB pattern TAB pathname-result TAB plain-result (String.raw: backslashes are literal).
const TABLE = String.raw`
foo	foo	1	1
foo	bar	0	0
foo	???	1	1
foo	??	0	0
foo	*	1	1
foo	f*	1	1
foo	*f	0	0
foo	*foo*	1	1
foobar	*ob*a*r*	1	1
aaaaaaabababab	*ab	1	1
foo*	foo\*	1	1
foobar	foo\*bar	0	0
f\oo	f\\oo	1	1
ball	*[al]?	1	1
ten	[ten]	0	0
ten	**[!te]	1	1
ten	**[!ten]	0	0
ten	t[a-g]n	1	1
ten	t[!a-g]n	0	0
ton	t[!a-g]n	1	1
ton	t[^a-g]n	1	1
a]b	a[]]b	1	1
a-b	a[]-]b	1	1
a]b	a[]-]b	1	1
aab	a[]-]b	0	0
aab	a[]a-]b	1	1
]	]	1	1
foo/baz/bar	foo*bar	0	1
foo/baz/bar	foo**bar	0	1
foobazbar	foo**bar	1	1
foo/baz/bar	foo/**/bar	1	1
foo/baz/bar	foo/**/**/bar	1	0
foo/b/a/z/bar	foo/**/bar	1	1
foo/b/a/z/bar	foo/**/**/bar	1	1
foo/bar	foo/**/bar	1	0
foo/bar	foo/**/**/bar	1	0
foo/bar	foo?bar	0	1
foo/bar	foo[/]bar	0	1
foo/bar	foo[^a-z]bar	0	1
foo/bar	f[^eiu][^eiu][^eiu][^eiu][^eiu]r	0	1
foo-bar	f[^eiu][^eiu][^eiu][^eiu][^eiu]r	1	1
foo	**/foo	1	0
XXX/foo	**/foo	1	1
bar/baz/foo	**/foo	1	1
bar/baz/foo	*/foo	0	1
foo/bar/baz	**/bar*	0	1
deep/foo/bar/baz	**/bar/*	1	1
deep/foo/bar/baz/	**/bar/*	0	1
deep/foo/bar/baz/	**/bar/**	1	1
deep/foo/bar	**/bar/*	0	0
deep/foo/bar/	**/bar/**	1	1
foo/bar/baz	**/bar**	0	1
foo/bar/baz/x	*/bar/**	1	1
deep/foo/bar/baz/x	*/bar/**	0	1
deep/foo/bar/baz/x	**/bar/*/*	1	1
acrt	a[c-c]st	0	0
acrt	a[c-c]rt	1	1
]	[!]-]	0	0
a	[!]-]	1	1
	\	0	0
XXX/\	*/\	0	0
XXX/\	*/\\	1	1
@foo	@foo	1	1
foo	@foo	0	0
[ab]	\[ab]	1	1
[ab]	[[]ab]	1	1
[ab]	[[:]ab]	1	1
[ab]	[[::]ab]	0	0
[ab]	[[:digit]ab]	1	1
[ab]	[\[:]ab]	1	1
?a?b	\??\?b	1	1
abc	\a\b\c	1	1
foo/bar/baz/to	**/t[o]	1	1
a1B	[[:alpha:]][[:digit:]][[:upper:]]	1	1
a	[[:digit:][:upper:][:space:]]	0	0
A	[[:digit:][:upper:][:space:]]	1	1
1	[[:digit:][:upper:][:space:]]	1	1
1	[[:digit:][:upper:][:spaci:]]	0	0
 	[[:digit:][:upper:][:space:]]	1	1
.	[[:digit:][:upper:][:space:]]	0	0
.	[[:digit:][:punct:][:space:]]	1	1
5	[[:xdigit:]]	1	1
f	[[:xdigit:]]	1	1
D	[[:xdigit:]]	1	1
_	[[:alnum:][:alpha:][:blank:][:cntrl:][:digit:][:graph:][:lower:][:print:][:punct:][:space:][:upper:][:xdigit:]]	1	1
.	[^[:alnum:][:alpha:][:blank:][:cntrl:][:digit:][:lower:][:space:][:upper:][:xdigit:]]	1	1
5	[a-c[:digit:]x-z]	1	1
b	[a-c[:digit:]x-z]	1	1
y	[a-c[:digit:]x-z]	1	1
q	[a-c[:digit:]x-z]	0	0
]	[\\-^]	1	1
[	[\\-^]	0	0
-	[\-_]	1	1
]	[\]]	1	1
\]	[\]]	0	0
\	[\]]	0	0
ab	a[]b	0	0
ab[	ab[	0	0
ab	[!	0	0
ab	[-	0	0
-	[-]	1	1
-	[a-	0	0
-	[!a-	0	0
-	[--A]	1	1
5	[--A]	1	1
 	[ --]	1	1
$	[ --]	1	1
-	[ --]	1	1
0	[ --]	0	0
-	[---]	1	1
-	[------]	1	1
j	[a-e-n]	0	0
-	[a-e-n]	1	1
a	[!------]	1	1
[	[]-a]	0	0
^	[]-a]	1	1
^	[!]-a]	0	0
[	[!]-a]	1	1
^	[a^bc]	1	1
-b]	[a-]b]	1	1
\	[\]	0	0
\	[\\]	1	1
\	[!\\]	0	0
G	[A-\\]	1	1
aaabbb	b*a	0	0
aabcaa	*ba*	0	0
,	[,]	1	1
,	[\\,]	1	1
\	[\\,]	1	1
-	[,-.]	1	1
+	[,-.]	0	0
-.]	[,-.]	0	0
2	[\1-\3]	1	1
3	[\1-\3]	1	1
4	[\1-\3]	0	0
\	[[-\]]	1	1
[	[[-\]]	1	1
]	[[-\]]	1	1
-	[[-\]]	0	0
-adobe-courier-bold-o-normal--12-120-75-75-m-70-iso8859-1	-*-*-*-*-*-*-12-*-*-*-m-*-*-*	1	1
-adobe-courier-bold-o-normal--12-120-75-75-X-70-iso8859-1	-*-*-*-*-*-*-12-*-*-*-m-*-*-*	0	0
-adobe-courier-bold-o-normal--12-120-75-75-/-70-iso8859-1	-*-*-*-*-*-*-12-*-*-*-m-*-*-*	0	0
XXX/adobe/courier/bold/o/normal//12/120/75/75/m/70/iso8859/1	XXX/*/*/*/*/*/*/12/*/*/*/m/*/*/*	1	1
XXX/adobe/courier/bold/o/normal//12/120/75/75/X/70/iso8859/1	XXX/*/*/*/*/*/*/12/*/*/*/m/*/*/*	0	0
abcd/abcdefg/abcdefghijk/abcdefghijklmnop.txt	**/*a*b*g*n*t	1	1
abcd/abcdefg/abcdefghijk/abcdefghijklmnop.txtz	**/*a*b*g*n*t	0	0
foo	*/*/*	0	0
foo/bar	*/*/*	0	0
foo/bba/arr	*/*/*	1	1
foo/bb/aa/rr	*/*/*	0	1
foo/bb/aa/rr	**/**/**	1	1
abcXdefXghi	*X*i	1	1
ab/cXd/efXg/hi	*X*i	0	1
ab/cXd/efXg/hi	*/*X*/*/*i	1	1
ab/cXd/efXg/hi	**/*X*/**/*i	1	1
foo	fo	0	0
foo/bar	foo/bar	1	1
foo/bar	foo/*	1	1
foo/bba/arr	foo/*	0	1
foo/bba/arr	foo/**	1	1
foo/bba/arr	foo*	0	1
foo/bba/arr	foo**	0	1
foo/bba/arr	foo/*arr	0	1
foo/bba/arr	foo/**arr	0	1
foo/bba/arr	foo/*z	0	0
foo/bba/arr	foo/**z	0	0
ab/cXd/efXg/hi	*Xg*i	0	1
a	[A-Z]	0	0
A	[A-Z]	1	1
A	[a-z]	0	0
a	[a-z]	1	1
a	[[:upper:]]	0	0
A	[[:upper:]]	1	1
A	[[:lower:]]	0	0
a	[[:lower:]]	1	1
A	[B-Za]	0	0
a	[B-Za]	1	1
A	[B-a]	0	0
a	[B-a]	1	1
z	[Z-y]	0	0
Z	[Z-y]	1	1
`;

const ROWS = TABLE.split('\n')
  .filter((l) => l !== '')
  .map((l) => {
    const [text, pattern, pathname, plain] = l.split('\t') as [string, string, string, string];
    return [text, pattern, pathname === '1', plain === '1'] as const;
  });

describe('wildmatch (git t3070)', () => {
  it('has the table', () => {
    expect(ROWS.length).toBeGreaterThan(150);
  });

  it.each(ROWS)('%j ~ %j: pathname %s, plain %s', (text, pattern, pathname, plain) => {
    expect(wildmatch(enc.encode(pattern), enc.encode(text), true)).toBe(pathname);
    expect(wildmatch(enc.encode(pattern), enc.encode(text), false)).toBe(plain);
  });
});
