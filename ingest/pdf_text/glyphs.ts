/**
 * Glyph names, base encodings and standard-font widths for the PDF text extractor.
 *
 * A simple font's bytes become text only through glyph names (its /Encoding and /Differences name
 * glyphs, not characters), and fonts that PDFs use without embedding or /Widths still need advances
 * for word spacing, so this module carries the tables a PDF reader is expected to know:
 *
 * - glyph name -> Unicode: the Adobe Glyph List (glyphlist.txt, via fontTools' agl.py), cut to the
 *   scripts and symbols that the extractor's text can use (below U+0530, U+1E00-U+2BFF, the Latin
 *   ligatures U+FB00-U+FB06); the algorithmic "uniXXXX"/"uXXXXX" names cover everything else.
 * - StandardEncoding, MacRomanEncoding and WinAnsiEncoding as PDF 32000-1 Annex D defines them.
 * - Advance widths of the twelve Latin standard 14 fonts as groff ships them (devps HR, HB, ...,
 *   CBI, made by afmtodit from Adobe's AFM files, whose widths they repeat).
 *
 * The tables are generated, not hand-written; the data strings are parsed on first use so loading
 * the module costs nothing.
 *
 * Adobe Glyph List: Copyright 2002-2019 Adobe (http://www.adobe.com/). Licensed under BSD-3-Clause:
 * Redistribution and use in source and binary forms, with or without modification, are permitted
 * provided that the following conditions are met: Redistributions of source code must retain the
 * above copyright notice, this list of conditions and the following disclaimer. Redistributions in
 * binary form must reproduce the above copyright notice, this list of conditions and the following
 * disclaimer in the documentation and/or other materials provided with the distribution. Neither
 * the name of Adobe nor the names of its contributors may be used to endorse or promote products
 * derived from this software without specific prior written permission. THIS SOFTWARE IS PROVIDED
 * BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND ANY EXPRESS OR IMPLIED WARRANTIES,
 * INCLUDING, BUT NOT LIMITED TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A
 * PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE
 * LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES
 * (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE, DATA,
 * OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN
 * CONTRACT, STRICT LIABILITY, OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT
 * OF THE USE OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
 */

// 2038 Adobe Glyph List entries: "name hex[ hex...]" joined by ";".
const AGL_DATA =
  "A 41;AE c6;AEacute 1fc;AEmacron 1e2;Aacute c1;Abreve 102;Abreveacute 1eae;Abrevecyrillic 4d0;" +
  "Abrevedotbelow 1eb6;Abrevegrave 1eb0;Abrevehookabove 1eb2;Abrevetilde 1eb4;Acaron 1cd;" +
  "Acircle 24b6;Acircumflex c2;Acircumflexacute 1ea4;Acircumflexdotbelow 1eac;" +
  "Acircumflexgrave 1ea6;Acircumflexhookabove 1ea8;Acircumflextilde 1eaa;Acyrillic 410;" +
  "Adblgrave 200;Adieresis c4;Adieresiscyrillic 4d2;Adieresismacron 1de;Adotbelow 1ea0;" +
  "Adotmacron 1e0;Agrave c0;Ahookabove 1ea2;Aiecyrillic 4d4;Ainvertedbreve 202;Alpha 391;" +
  "Alphatonos 386;Amacron 100;Aogonek 104;Aring c5;Aringacute 1fa;Aringbelow 1e00;Atilde c3;B 42;" +
  "Bcircle 24b7;Bdotaccent 1e02;Bdotbelow 1e04;Becyrillic 411;Beta 392;Bhook 181;Blinebelow 1e06;" +
  "Btopbar 182;C 43;Cacute 106;Ccaron 10c;Ccedilla c7;Ccedillaacute 1e08;Ccircle 24b8;" +
  "Ccircumflex 108;Cdot 10a;Cdotaccent 10a;Cheabkhasiancyrillic 4bc;Checyrillic 427;" +
  "Chedescenderabkhasiancyrillic 4be;Chedescendercyrillic 4b6;Chedieresiscyrillic 4f4;" +
  "Chekhakassiancyrillic 4cb;Cheverticalstrokecyrillic 4b8;Chi 3a7;Chook 187;D 44;DZ 1f1;" +
  "DZcaron 1c4;Dafrican 189;Dcaron 10e;Dcedilla 1e10;Dcircle 24b9;Dcircumflexbelow 1e12;" +
  "Dcroat 110;Ddotaccent 1e0a;Ddotbelow 1e0c;Decyrillic 414;Deicoptic 3ee;Delta 2206;" +
  "Deltagreek 394;Dhook 18a;Digammagreek 3dc;Djecyrillic 402;Dlinebelow 1e0e;Dslash 110;" +
  "Dtopbar 18b;Dz 1f2;Dzcaron 1c5;Dzeabkhasiancyrillic 4e0;Dzecyrillic 405;Dzhecyrillic 40f;E 45;" +
  "Eacute c9;Ebreve 114;Ecaron 11a;Ecedillabreve 1e1c;Ecircle 24ba;Ecircumflex ca;" +
  "Ecircumflexacute 1ebe;Ecircumflexbelow 1e18;Ecircumflexdotbelow 1ec6;Ecircumflexgrave 1ec0;" +
  "Ecircumflexhookabove 1ec2;Ecircumflextilde 1ec4;Ecyrillic 404;Edblgrave 204;Edieresis cb;" +
  "Edot 116;Edotaccent 116;Edotbelow 1eb8;Efcyrillic 424;Egrave c8;Ehookabove 1eba;" +
  "Eightroman 2167;Einvertedbreve 206;Eiotifiedcyrillic 464;Elcyrillic 41b;Elevenroman 216a;" +
  "Emacron 112;Emacronacute 1e16;Emacrongrave 1e14;Emcyrillic 41c;Encyrillic 41d;" +
  "Endescendercyrillic 4a2;Eng 14a;Enghecyrillic 4a4;Enhookcyrillic 4c7;Eogonek 118;Eopen 190;" +
  "Epsilon 395;Epsilontonos 388;Ercyrillic 420;Ereversed 18e;Ereversedcyrillic 42d;" +
  "Escyrillic 421;Esdescendercyrillic 4aa;Esh 1a9;Eta 397;Etatonos 389;Eth d0;Etilde 1ebc;" +
  "Etildebelow 1e1a;Euro 20ac;Ezh 1b7;Ezhcaron 1ee;Ezhreversed 1b8;F 46;Fcircle 24bb;" +
  "Fdotaccent 1e1e;Feicoptic 3e4;Fhook 191;Fitacyrillic 472;Fiveroman 2164;Fourroman 2163;G 47;" +
  "Gacute 1f4;Gamma 393;Gammaafrican 194;Gangiacoptic 3ea;Gbreve 11e;Gcaron 1e6;Gcedilla 122;" +
  "Gcircle 24bc;Gcircumflex 11c;Gcommaaccent 122;Gdot 120;Gdotaccent 120;Gecyrillic 413;" +
  "Ghemiddlehookcyrillic 494;Ghestrokecyrillic 492;Gheupturncyrillic 490;Ghook 193;" +
  "Gjecyrillic 403;Gmacron 1e20;Gsmallhook 29b;Gstroke 1e4;H 48;H18533 25cf;H18543 25aa;" +
  "H18551 25ab;H22073 25a1;Haabkhasiancyrillic 4a8;Hadescendercyrillic 4b2;Hardsigncyrillic 42a;" +
  "Hbar 126;Hbrevebelow 1e2a;Hcedilla 1e28;Hcircle 24bd;Hcircumflex 124;Hdieresis 1e26;" +
  "Hdotaccent 1e22;Hdotbelow 1e24;Horicoptic 3e8;I 49;IAcyrillic 42f;IJ 132;IUcyrillic 42e;" +
  "Iacute cd;Ibreve 12c;Icaron 1cf;Icircle 24be;Icircumflex ce;Icyrillic 406;Idblgrave 208;" +
  "Idieresis cf;Idieresisacute 1e2e;Idieresiscyrillic 4e4;Idot 130;Idotaccent 130;Idotbelow 1eca;" +
  "Iebrevecyrillic 4d6;Iecyrillic 415;Ifraktur 2111;Igrave cc;Ihookabove 1ec8;Iicyrillic 418;" +
  "Iinvertedbreve 20a;Iishortcyrillic 419;Imacron 12a;Imacroncyrillic 4e2;Iocyrillic 401;" +
  "Iogonek 12e;Iota 399;Iotaafrican 196;Iotadieresis 3aa;Iotatonos 38a;Istroke 197;Itilde 128;" +
  "Itildebelow 1e2c;Izhitsacyrillic 474;Izhitsadblgravecyrillic 476;J 4a;Jcircle 24bf;" +
  "Jcircumflex 134;Jecyrillic 408;K 4b;Kabashkircyrillic 4a0;Kacute 1e30;Kacyrillic 41a;" +
  "Kadescendercyrillic 49a;Kahookcyrillic 4c3;Kappa 39a;Kastrokecyrillic 49e;" +
  "Kaverticalstrokecyrillic 49c;Kcaron 1e8;Kcedilla 136;Kcircle 24c0;Kcommaaccent 136;" +
  "Kdotbelow 1e32;Khacyrillic 425;Kheicoptic 3e6;Khook 198;Kjecyrillic 40c;Klinebelow 1e34;" +
  "Koppacyrillic 480;Koppagreek 3de;Ksicyrillic 46e;L 4c;LJ 1c7;Lacute 139;Lambda 39b;Lcaron 13d;" +
  "Lcedilla 13b;Lcircle 24c1;Lcircumflexbelow 1e3c;Lcommaaccent 13b;Ldot 13f;Ldotaccent 13f;" +
  "Ldotbelow 1e36;Ldotbelowmacron 1e38;Lj 1c8;Ljecyrillic 409;Llinebelow 1e3a;Lslash 141;M 4d;" +
  "Macute 1e3e;Mcircle 24c2;Mdotaccent 1e40;Mdotbelow 1e42;Mturned 19c;Mu 39c;N 4e;NJ 1ca;" +
  "Nacute 143;Ncaron 147;Ncedilla 145;Ncircle 24c3;Ncircumflexbelow 1e4a;Ncommaaccent 145;" +
  "Ndotaccent 1e44;Ndotbelow 1e46;Nhookleft 19d;Nineroman 2168;Nj 1cb;Njecyrillic 40a;" +
  "Nlinebelow 1e48;Ntilde d1;Nu 39d;O 4f;OE 152;Oacute d3;Obarredcyrillic 4e8;" +
  "Obarreddieresiscyrillic 4ea;Obreve 14e;Ocaron 1d1;Ocenteredtilde 19f;Ocircle 24c4;" +
  "Ocircumflex d4;Ocircumflexacute 1ed0;Ocircumflexdotbelow 1ed8;Ocircumflexgrave 1ed2;" +
  "Ocircumflexhookabove 1ed4;Ocircumflextilde 1ed6;Ocyrillic 41e;Odblacute 150;Odblgrave 20c;" +
  "Odieresis d6;Odieresiscyrillic 4e6;Odotbelow 1ecc;Ograve d2;Ohm 2126;Ohookabove 1ece;" +
  "Ohorn 1a0;Ohornacute 1eda;Ohorndotbelow 1ee2;Ohorngrave 1edc;Ohornhookabove 1ede;" +
  "Ohorntilde 1ee0;Ohungarumlaut 150;Oi 1a2;Oinvertedbreve 20e;Omacron 14c;Omacronacute 1e52;" +
  "Omacrongrave 1e50;Omega 2126;Omegacyrillic 460;Omegagreek 3a9;Omegaroundcyrillic 47a;" +
  "Omegatitlocyrillic 47c;Omegatonos 38f;Omicron 39f;Omicrontonos 38c;Oneroman 2160;Oogonek 1ea;" +
  "Oogonekmacron 1ec;Oopen 186;Oslash d8;Oslashacute 1fe;Ostrokeacute 1fe;Otcyrillic 47e;" +
  "Otilde d5;Otildeacute 1e4c;Otildedieresis 1e4e;P 50;Pacute 1e54;Pcircle 24c5;Pdotaccent 1e56;" +
  "Pecyrillic 41f;Pemiddlehookcyrillic 4a6;Phi 3a6;Phook 1a4;Pi 3a0;Psi 3a8;Psicyrillic 470;Q 51;" +
  "Qcircle 24c6;R 52;Racute 154;Rcaron 158;Rcedilla 156;Rcircle 24c7;Rcommaaccent 156;" +
  "Rdblgrave 210;Rdotaccent 1e58;Rdotbelow 1e5a;Rdotbelowmacron 1e5c;Rfraktur 211c;Rho 3a1;" +
  "Rinvertedbreve 212;Rlinebelow 1e5e;Rsmallinverted 281;Rsmallinvertedsuperior 2b6;S 53;" +
  "SF010000 250c;SF020000 2514;SF030000 2510;SF040000 2518;SF050000 253c;SF060000 252c;" +
  "SF070000 2534;SF080000 251c;SF090000 2524;SF100000 2500;SF110000 2502;SF190000 2561;" +
  "SF200000 2562;SF210000 2556;SF220000 2555;SF230000 2563;SF240000 2551;SF250000 2557;" +
  "SF260000 255d;SF270000 255c;SF280000 255b;SF360000 255e;SF370000 255f;SF380000 255a;" +
  "SF390000 2554;SF400000 2569;SF410000 2566;SF420000 2560;SF430000 2550;SF440000 256c;" +
  "SF450000 2567;SF460000 2568;SF470000 2564;SF480000 2565;SF490000 2559;SF500000 2558;" +
  "SF510000 2552;SF520000 2553;SF530000 256b;SF540000 256a;Sacute 15a;Sacutedotaccent 1e64;" +
  "Sampigreek 3e0;Scaron 160;Scarondotaccent 1e66;Scedilla 15e;Schwa 18f;Schwacyrillic 4d8;" +
  "Schwadieresiscyrillic 4da;Scircle 24c8;Scircumflex 15c;Scommaaccent 218;Sdotaccent 1e60;" +
  "Sdotbelow 1e62;Sdotbelowdotaccent 1e68;Sevenroman 2166;Shacyrillic 428;Shchacyrillic 429;" +
  "Sheicoptic 3e2;Shhacyrillic 4ba;Shimacoptic 3ec;Sigma 3a3;Sixroman 2165;Softsigncyrillic 42c;" +
  "Stigmagreek 3da;T 54;Tau 3a4;Tbar 166;Tcaron 164;Tcedilla 162;Tcircle 24c9;" +
  "Tcircumflexbelow 1e70;Tcommaaccent 162;Tdotaccent 1e6a;Tdotbelow 1e6c;Tecyrillic 422;" +
  "Tedescendercyrillic 4ac;Tenroman 2169;Tetsecyrillic 4b4;Theta 398;Thook 1ac;Thorn de;" +
  "Threeroman 2162;Tlinebelow 1e6e;Tonefive 1bc;Tonesix 184;Tonetwo 1a7;Tretroflexhook 1ae;" +
  "Tsecyrillic 426;Tshecyrillic 40b;Twelveroman 216b;Tworoman 2161;U 55;Uacute da;Ubreve 16c;" +
  "Ucaron 1d3;Ucircle 24ca;Ucircumflex db;Ucircumflexbelow 1e76;Ucyrillic 423;Udblacute 170;" +
  "Udblgrave 214;Udieresis dc;Udieresisacute 1d7;Udieresisbelow 1e72;Udieresiscaron 1d9;" +
  "Udieresiscyrillic 4f0;Udieresisgrave 1db;Udieresismacron 1d5;Udotbelow 1ee4;Ugrave d9;" +
  "Uhookabove 1ee6;Uhorn 1af;Uhornacute 1ee8;Uhorndotbelow 1ef0;Uhorngrave 1eea;" +
  "Uhornhookabove 1eec;Uhorntilde 1eee;Uhungarumlaut 170;Uhungarumlautcyrillic 4f2;" +
  "Uinvertedbreve 216;Ukcyrillic 478;Umacron 16a;Umacroncyrillic 4ee;Umacrondieresis 1e7a;" +
  "Uogonek 172;Upsilon 3a5;Upsilon1 3d2;Upsilonacutehooksymbolgreek 3d3;Upsilonafrican 1b1;" +
  "Upsilondieresis 3ab;Upsilondieresishooksymbolgreek 3d4;Upsilonhooksymbol 3d2;Upsilontonos 38e;" +
  "Uring 16e;Ushortcyrillic 40e;Ustraightcyrillic 4ae;Ustraightstrokecyrillic 4b0;Utilde 168;" +
  "Utildeacute 1e78;Utildebelow 1e74;V 56;Vcircle 24cb;Vdotbelow 1e7e;Vecyrillic 412;Vhook 1b2;" +
  "Vtilde 1e7c;W 57;Wacute 1e82;Wcircle 24cc;Wcircumflex 174;Wdieresis 1e84;Wdotaccent 1e86;" +
  "Wdotbelow 1e88;Wgrave 1e80;X 58;Xcircle 24cd;Xdieresis 1e8c;Xdotaccent 1e8a;Xi 39e;Y 59;" +
  "Yacute dd;Yatcyrillic 462;Ycircle 24ce;Ycircumflex 176;Ydieresis 178;Ydotaccent 1e8e;" +
  "Ydotbelow 1ef4;Yericyrillic 42b;Yerudieresiscyrillic 4f8;Ygrave 1ef2;Yhook 1b3;" +
  "Yhookabove 1ef6;Yicyrillic 407;Ytilde 1ef8;Yusbigcyrillic 46a;Yusbigiotifiedcyrillic 46c;" +
  "Yuslittlecyrillic 466;Yuslittleiotifiedcyrillic 468;Z 5a;Zacute 179;Zcaron 17d;Zcircle 24cf;" +
  "Zcircumflex 1e90;Zdot 17b;Zdotaccent 17b;Zdotbelow 1e92;Zecyrillic 417;" +
  "Zedescendercyrillic 498;Zedieresiscyrillic 4de;Zeta 396;Zhebrevecyrillic 4c1;Zhecyrillic 416;" +
  "Zhedescendercyrillic 496;Zhedieresiscyrillic 4dc;Zlinebelow 1e94;Zstroke 1b5;a 61;aacute e1;" +
  "abreve 103;abreveacute 1eaf;abrevecyrillic 4d1;abrevedotbelow 1eb7;abrevegrave 1eb1;" +
  "abrevehookabove 1eb3;abrevetilde 1eb5;acaron 1ce;acircle 24d0;acircumflex e2;" +
  "acircumflexacute 1ea5;acircumflexdotbelow 1ead;acircumflexgrave 1ea7;" +
  "acircumflexhookabove 1ea9;acircumflextilde 1eab;acute b4;acutebelowcmb 317;acutecmb 301;" +
  "acutecomb 301;acutelowmod 2cf;acutetonecmb 341;acyrillic 430;adblgrave 201;adieresis e4;" +
  "adieresiscyrillic 4d3;adieresismacron 1df;adotbelow 1ea1;adotmacron 1e1;ae e6;aeacute 1fd;" +
  "aemacron 1e3;afii00208 2015;afii08941 20a4;afii10017 410;afii10018 411;afii10019 412;" +
  "afii10020 413;afii10021 414;afii10022 415;afii10023 401;afii10024 416;afii10025 417;" +
  "afii10026 418;afii10027 419;afii10028 41a;afii10029 41b;afii10030 41c;afii10031 41d;" +
  "afii10032 41e;afii10033 41f;afii10034 420;afii10035 421;afii10036 422;afii10037 423;" +
  "afii10038 424;afii10039 425;afii10040 426;afii10041 427;afii10042 428;afii10043 429;" +
  "afii10044 42a;afii10045 42b;afii10046 42c;afii10047 42d;afii10048 42e;afii10049 42f;" +
  "afii10050 490;afii10051 402;afii10052 403;afii10053 404;afii10054 405;afii10055 406;" +
  "afii10056 407;afii10057 408;afii10058 409;afii10059 40a;afii10060 40b;afii10061 40c;" +
  "afii10062 40e;afii10065 430;afii10066 431;afii10067 432;afii10068 433;afii10069 434;" +
  "afii10070 435;afii10071 451;afii10072 436;afii10073 437;afii10074 438;afii10075 439;" +
  "afii10076 43a;afii10077 43b;afii10078 43c;afii10079 43d;afii10080 43e;afii10081 43f;" +
  "afii10082 440;afii10083 441;afii10084 442;afii10085 443;afii10086 444;afii10087 445;" +
  "afii10088 446;afii10089 447;afii10090 448;afii10091 449;afii10092 44a;afii10093 44b;" +
  "afii10094 44c;afii10095 44d;afii10096 44e;afii10097 44f;afii10098 491;afii10099 452;" +
  "afii10100 453;afii10101 454;afii10102 455;afii10103 456;afii10104 457;afii10105 458;" +
  "afii10106 459;afii10107 45a;afii10108 45b;afii10109 45c;afii10110 45e;afii10145 40f;" +
  "afii10146 462;afii10147 472;afii10148 474;afii10193 45f;afii10194 463;afii10195 473;" +
  "afii10196 475;afii10846 4d9;afii299 200e;afii300 200f;afii301 200d;afii57636 20aa;" +
  "afii57929 2bc;afii61248 2105;afii61289 2113;afii61352 2116;afii61573 202c;afii61574 202d;" +
  "afii61575 202e;afii61664 200c;afii64937 2bd;agrave e0;ahookabove 1ea3;aiecyrillic 4d5;" +
  "ainvertedbreve 203;aleph 2135;allequal 224c;alpha 3b1;alphatonos 3ac;amacron 101;ampersand 26;" +
  "angle 2220;angleleft 2329;angleright 232a;angstrom 212b;anoteleia 387;aogonek 105;aparen 249c;" +
  "apostrophemod 2bc;approaches 2250;approxequal 2248;approxequalorimage 2252;" +
  "approximatelyequal 2245;arc 2312;arighthalfring 1e9a;aring e5;aringacute 1fb;aringbelow 1e01;" +
  "arrowboth 2194;arrowdashdown 21e3;arrowdashleft 21e0;arrowdashright 21e2;arrowdashup 21e1;" +
  "arrowdblboth 21d4;arrowdbldown 21d3;arrowdblleft 21d0;arrowdblright 21d2;arrowdblup 21d1;" +
  "arrowdown 2193;arrowdownleft 2199;arrowdownright 2198;arrowdownwhite 21e9;" +
  "arrowheaddownmod 2c5;arrowheadleftmod 2c2;arrowheadrightmod 2c3;arrowheadupmod 2c4;" +
  "arrowleft 2190;arrowleftdbl 21d0;arrowleftdblstroke 21cd;arrowleftoverright 21c6;" +
  "arrowleftwhite 21e6;arrowright 2192;arrowrightdblstroke 21cf;arrowrightheavy 279e;" +
  "arrowrightoverleft 21c4;arrowrightwhite 21e8;arrowtableft 21e4;arrowtabright 21e5;" +
  "arrowup 2191;arrowupdn 2195;arrowupdnbse 21a8;arrowupdownbase 21a8;arrowupleft 2196;" +
  "arrowupleftofdown 21c5;arrowupright 2197;arrowupwhite 21e7;asciicircum 5e;asciitilde 7e;" +
  "ascript 251;ascriptturned 252;asterisk 2a;asteriskmath 2217;asterism 2042;" +
  "asymptoticallyequal 2243;at 40;atilde e3;aturned 250;b 62;backslash 5c;bar 7c;bcircle 24d1;" +
  "bdotaccent 1e03;bdotbelow 1e05;beamedsixteenthnotes 266c;because 2235;becyrillic 431;beta 3b2;" +
  "betasymbolgreek 3d0;bhook 253;bilabialclick 298;blackcircle 25cf;blackdiamond 25c6;" +
  "blackdownpointingtriangle 25bc;blackleftpointingpointer 25c4;blackleftpointingtriangle 25c0;" +
  "blacklowerlefttriangle 25e3;blacklowerrighttriangle 25e2;blackrectangle 25ac;" +
  "blackrightpointingpointer 25ba;blackrightpointingtriangle 25b6;blacksmallsquare 25aa;" +
  "blacksmilingface 263b;blacksquare 25a0;blackstar 2605;blackupperlefttriangle 25e4;" +
  "blackupperrighttriangle 25e5;blackuppointingsmalltriangle 25b4;blackuppointingtriangle 25b2;" +
  "blank 2423;blinebelow 1e07;block 2588;bparen 249d;braceleft 7b;braceright 7d;bracketleft 5b;" +
  "bracketright 5d;breve 2d8;brevebelowcmb 32e;brevecmb 306;breveinvertedbelowcmb 32f;" +
  "breveinvertedcmb 311;breveinverteddoublecmb 361;bridgebelowcmb 32a;bridgeinvertedbelowcmb 33a;" +
  "brokenbar a6;bstroke 180;btopbar 183;bullet 2022;bulletinverse 25d8;bulletoperator 2219;" +
  "bullseye 25ce;c 63;cacute 107;candrabinducmb 310;capslock 21ea;careof 2105;caron 2c7;" +
  "caronbelowcmb 32c;caroncmb 30c;carriagereturn 21b5;ccaron 10d;ccedilla e7;ccedillaacute 1e09;" +
  "ccircle 24d2;ccircumflex 109;ccurl 255;cdot 10b;cdotaccent 10b;cedilla b8;cedillacmb 327;" +
  "cent a2;centigrade 2103;cheabkhasiancyrillic 4bd;checkmark 2713;checyrillic 447;" +
  "chedescenderabkhasiancyrillic 4bf;chedescendercyrillic 4b7;chedieresiscyrillic 4f5;" +
  "chekhakassiancyrillic 4cc;cheverticalstrokecyrillic 4b9;chi 3c7;chook 188;circle 25cb;" +
  "circlemultiply 2297;circleot 2299;circleplus 2295;circlewithlefthalfblack 25d0;" +
  "circlewithrighthalfblack 25d1;circumflex 2c6;circumflexbelowcmb 32d;circumflexcmb 302;" +
  "clear 2327;clickalveolar 1c2;clickdental 1c0;clicklateral 1c1;clickretroflex 1c3;club 2663;" +
  "clubsuitblack 2663;clubsuitwhite 2667;colon 3a;colonmonetary 20a1;colonsign 20a1;" +
  "colontriangularhalfmod 2d1;colontriangularmod 2d0;comma 2c;commaabovecmb 313;" +
  "commaaboverightcmb 315;commareversedabovecmb 314;commareversedmod 2bd;commaturnedabovecmb 312;" +
  "commaturnedmod 2bb;compass 263c;congruent 2245;contourintegral 222e;control 2303;controlACK 6;" +
  "controlBEL 7;controlBS 8;controlCAN 18;controlCR d;controlDC1 11;controlDC2 12;controlDC3 13;" +
  "controlDC4 14;controlDEL 7f;controlDLE 10;controlEM 19;controlENQ 5;controlEOT 4;" +
  "controlESC 1b;controlETB 17;controlETX 3;controlFF c;controlFS 1c;controlGS 1d;controlHT 9;" +
  "controlLF a;controlNAK 15;controlRS 1e;controlSI f;controlSO e;controlSOT 2;controlSTX 1;" +
  "controlSUB 1a;controlSYN 16;controlUS 1f;controlVT b;copyright a9;cparen 249e;cruzeiro 20a2;" +
  "cstretched 297;curlyand 22cf;curlyor 22ce;currency a4;d 64;dagger 2020;daggerdbl 2021;" +
  "dasiapneumatacyrilliccmb 485;dblarchinvertedbelowcmb 32b;dblarrowleft 21d4;dblarrowright 21d2;" +
  "dblgravecmb 30f;dblintegral 222c;dbllowline 2017;dbllowlinecmb 333;dbloverlinecmb 33f;" +
  "dblprimemod 2ba;dblverticalbar 2016;dblverticallineabovecmb 30e;dcaron 10f;dcedilla 1e11;" +
  "dcircle 24d3;dcircumflexbelow 1e13;dcroat 111;ddotaccent 1e0b;ddotbelow 1e0d;decyrillic 434;" +
  "degree b0;deicoptic 3ef;deleteleft 232b;deleteright 2326;delta 3b4;deltaturned 18d;dezh 2a4;" +
  "dhook 257;dialytikatonos 385;dialytikatonoscmb 344;diamond 2666;diamondsuitwhite 2662;" +
  "dieresis a8;dieresisbelowcmb 324;dieresiscmb 308;dieresistonos 385;divide f7;divides 2223;" +
  "divisionslash 2215;djecyrillic 452;dkshade 2593;dlinebelow 1e0f;dmacron 111;dnblock 2584;" +
  "dollar 24;dong 20ab;dotaccent 2d9;dotaccentcmb 307;dotbelowcmb 323;dotbelowcomb 323;" +
  "dotlessi 131;dotlessjstrokehook 284;dotmath 22c5;dottedcircle 25cc;downtackbelowcmb 31e;" +
  "downtackmod 2d5;dparen 249f;dtail 256;dtopbar 18c;dz 1f3;dzaltone 2a3;dzcaron 1c6;dzcurl 2a5;" +
  "dzeabkhasiancyrillic 4e1;dzecyrillic 455;dzhecyrillic 45f;e 65;eacute e9;earth 2641;" +
  "ebreve 115;ecaron 11b;ecedillabreve 1e1d;ecircle 24d4;ecircumflex ea;ecircumflexacute 1ebf;" +
  "ecircumflexbelow 1e19;ecircumflexdotbelow 1ec7;ecircumflexgrave 1ec1;" +
  "ecircumflexhookabove 1ec3;ecircumflextilde 1ec5;ecyrillic 454;edblgrave 205;edieresis eb;" +
  "edot 117;edotaccent 117;edotbelow 1eb9;efcyrillic 444;egrave e8;ehookabove 1ebb;eight 38;" +
  "eightcircle 2467;eightcircleinversesansserif 2791;eighteencircle 2471;eighteenparen 2485;" +
  "eighteenperiod 2499;eighthnotebeamed 266b;eightinferior 2088;eightparen 247b;eightperiod 248f;" +
  "eightroman 2177;eightsuperior 2078;einvertedbreve 207;eiotifiedcyrillic 465;elcyrillic 43b;" +
  "element 2208;elevencircle 246a;elevenparen 247e;elevenperiod 2492;elevenroman 217a;" +
  "ellipsis 2026;ellipsisvertical 22ee;emacron 113;emacronacute 1e17;emacrongrave 1e15;" +
  "emcyrillic 43c;emdash 2014;emptyset 2205;encyrillic 43d;endash 2013;endescendercyrillic 4a3;" +
  "eng 14b;enghecyrillic 4a5;enhookcyrillic 4c8;enspace 2002;eogonek 119;eopen 25b;" +
  "eopenclosed 29a;eopenreversed 25c;eopenreversedclosed 25e;eopenreversedhook 25d;eparen 24a0;" +
  "epsilon 3b5;epsilontonos 3ad;equal 3d;equalsuperior 207c;equivalence 2261;ercyrillic 440;" +
  "ereversed 258;ereversedcyrillic 44d;escyrillic 441;esdescendercyrillic 4ab;esh 283;" +
  "eshcurl 286;eshreversedloop 1aa;eshsquatreversed 285;estimated 212e;eta 3b7;etatonos 3ae;" +
  "eth f0;etilde 1ebd;etildebelow 1e1b;eturned 1dd;euro 20ac;exclam 21;exclamdbl 203c;" +
  "exclamdown a1;existential 2203;ezh 292;ezhcaron 1ef;ezhcurl 293;ezhreversed 1b9;ezhtail 1ba;" +
  "f 66;fahrenheit 2109;fcircle 24d5;fdotaccent 1e1f;feicoptic 3e5;female 2640;ff fb00;ffi fb03;" +
  "ffl fb04;fi fb01;fifteencircle 246e;fifteenparen 2482;fifteenperiod 2496;figuredash 2012;" +
  "filledbox 25a0;filledrect 25ac;firsttonechinese 2c9;fisheye 25c9;fitacyrillic 473;five 35;" +
  "fivecircle 2464;fivecircleinversesansserif 278e;fiveeighths 215d;fiveinferior 2085;" +
  "fiveparen 2478;fiveperiod 248c;fiveroman 2174;fivesuperior 2075;fl fb02;florin 192;" +
  "forall 2200;four 34;fourcircle 2463;fourcircleinversesansserif 278d;fourinferior 2084;" +
  "fourparen 2477;fourperiod 248b;fourroman 2173;foursuperior 2074;fourteencircle 246d;" +
  "fourteenparen 2481;fourteenperiod 2495;fourthtonechinese 2cb;fparen 24a1;fraction 2044;" +
  "franc 20a3;g 67;gacute 1f5;gamma 3b3;gammalatinsmall 263;gammasuperior 2e0;gangiacoptic 3eb;" +
  "gbreve 11f;gcaron 1e7;gcedilla 123;gcircle 24d6;gcircumflex 11d;gcommaaccent 123;gdot 121;" +
  "gdotaccent 121;gecyrillic 433;geometricallyequal 2251;germandbls df;ghemiddlehookcyrillic 495;" +
  "ghestrokecyrillic 493;gheupturncyrillic 491;ghook 260;gjecyrillic 453;" +
  "glottalinvertedstroke 1be;glottalstop 294;glottalstopinverted 296;glottalstopmod 2c0;" +
  "glottalstopreversed 295;glottalstopreversedmod 2c1;glottalstopreversedsuperior 2e4;" +
  "glottalstopstroke 2a1;glottalstopstrokereversed 2a2;gmacron 1e21;gparen 24a2;gradient 2207;" +
  "grave 60;gravebelowcmb 316;gravecmb 300;gravecomb 300;gravelowmod 2ce;gravetonecmb 340;" +
  "greater 3e;greaterequal 2265;greaterequalorless 22db;greaterorequivalent 2273;" +
  "greaterorless 2277;greateroverequal 2267;gscript 261;gstroke 1e5;guillemotleft ab;" +
  "guillemotright bb;guilsinglleft 2039;guilsinglright 203a;h 68;haabkhasiancyrillic 4a9;" +
  "hadescendercyrillic 4b3;hardsigncyrillic 44a;harpoonleftbarbup 21bc;harpoonrightbarbup 21c0;" +
  "hbar 127;hbrevebelow 1e2b;hcedilla 1e29;hcircle 24d7;hcircumflex 125;hdieresis 1e27;" +
  "hdotaccent 1e23;hdotbelow 1e25;heart 2665;heartsuitblack 2665;heartsuitwhite 2661;" +
  "henghook 267;hhook 266;hhooksuperior 2b1;hlinebelow 1e96;hookabovecomb 309;hookcmb 309;" +
  "hookpalatalizedbelowcmb 321;hookretroflexbelowcmb 322;horicoptic 3e9;horizontalbar 2015;" +
  "horncmb 31b;hotsprings 2668;house 2302;hparen 24a3;hsuperior 2b0;hturned 265;hungarumlaut 2dd;" +
  "hungarumlautcmb 30b;hv 195;hyphen 2d;hyphentwo 2010;i 69;iacute ed;iacyrillic 44f;ibreve 12d;" +
  "icaron 1d0;icircle 24d8;icircumflex ee;icyrillic 456;idblgrave 209;idieresis ef;" +
  "idieresisacute 1e2f;idieresiscyrillic 4e5;idotbelow 1ecb;iebrevecyrillic 4d7;iecyrillic 435;" +
  "igrave ec;ihookabove 1ec9;iicyrillic 438;iinvertedbreve 20b;iishortcyrillic 439;ij 133;" +
  "ilde 2dc;imacron 12b;imacroncyrillic 4e3;imageorapproximatelyequal 2253;increment 2206;" +
  "infinity 221e;integral 222b;integralbottom 2321;integralbt 2321;integraltop 2320;" +
  "integraltp 2320;intersection 2229;invbullet 25d8;invcircle 25d9;invsmileface 263b;" +
  "iocyrillic 451;iogonek 12f;iota 3b9;iotadieresis 3ca;iotadieresistonos 390;iotalatin 269;" +
  "iotatonos 3af;iparen 24a4;istroke 268;itilde 129;itildebelow 1e2d;iucyrillic 44e;" +
  "izhitsacyrillic 475;izhitsadblgravecyrillic 477;j 6a;jcaron 1f0;jcircle 24d9;jcircumflex 135;" +
  "jcrossedtail 29d;jdotlessstroke 25f;jecyrillic 458;jparen 24a5;jsuperior 2b2;k 6b;" +
  "kabashkircyrillic 4a1;kacute 1e31;kacyrillic 43a;kadescendercyrillic 49b;kahookcyrillic 4c4;" +
  "kappa 3ba;kappasymbolgreek 3f0;kastrokecyrillic 49f;kaverticalstrokecyrillic 49d;kcaron 1e9;" +
  "kcedilla 137;kcircle 24da;kcommaaccent 137;kdotbelow 1e33;kgreenlandic 138;khacyrillic 445;" +
  "kheicoptic 3e7;khook 199;kjecyrillic 45c;klinebelow 1e35;koppacyrillic 481;koroniscmb 343;" +
  "kparen 24a6;ksicyrillic 46f;kturned 29e;l 6c;lacute 13a;lambda 3bb;lambdastroke 19b;" +
  "largecircle 25ef;lbar 19a;lbelt 26c;lcaron 13e;lcedilla 13c;lcircle 24db;" +
  "lcircumflexbelow 1e3d;lcommaaccent 13c;ldot 140;ldotaccent 140;ldotbelow 1e37;" +
  "ldotbelowmacron 1e39;leftangleabovecmb 31a;lefttackbelowcmb 318;less 3c;lessequal 2264;" +
  "lessequalorgreater 22da;lessorequivalent 2272;lessorgreater 2276;lessoverequal 2266;lezh 26e;" +
  "lfblock 258c;lhookretroflex 26d;lira 20a4;lj 1c9;ljecyrillic 459;llinebelow 1e3b;" +
  "lmiddletilde 26b;logicaland 2227;logicalnot ac;logicalnotreversed 2310;logicalor 2228;" +
  "longs 17f;lowlinecmb 332;lozenge 25ca;lparen 24a7;lslash 142;lsquare 2113;ltshade 2591;m 6d;" +
  "macron af;macronbelowcmb 331;macroncmb 304;macronlowmod 2cd;macute 1e3f;male 2642;mars 2642;" +
  "mcircle 24dc;mdotaccent 1e41;mdotbelow 1e43;mhook 271;middot b7;minus 2212;minusbelowcmb 320;" +
  "minuscircle 2296;minusmod 2d7;minusplus 2213;minute 2032;mlonglegturned 270;mparen 24a8;" +
  "mturned 26f;mu b5;mu1 b5;muchgreater 226b;muchless 226a;mugreek 3bc;multiply d7;" +
  "musicalnote 266a;musicalnotedbl 266b;musicflatsign 266d;musicsharpsign 266f;n 6e;nabla 2207;" +
  "nacute 144;napostrophe 149;nbspace a0;ncaron 148;ncedilla 146;ncircle 24dd;" +
  "ncircumflexbelow 1e4b;ncommaaccent 146;ndotaccent 1e45;ndotbelow 1e47;newsheqelsign 20aa;" +
  "nhookleft 272;nhookretroflex 273;nine 39;ninecircle 2468;ninecircleinversesansserif 2792;" +
  "nineinferior 2089;nineparen 247c;nineperiod 2490;nineroman 2178;ninesuperior 2079;" +
  "nineteencircle 2472;nineteenparen 2486;nineteenperiod 249a;nj 1cc;njecyrillic 45a;" +
  "nlegrightlong 19e;nlinebelow 1e49;nonbreakingspace a0;notcontains 220c;notelement 2209;" +
  "notelementof 2209;notequal 2260;notgreater 226f;notgreaternorequal 2271;" +
  "notgreaternorless 2279;notidentical 2262;notless 226e;notlessnorequal 2270;notparallel 2226;" +
  "notprecedes 2280;notsubset 2284;notsucceeds 2281;notsuperset 2285;nparen 24a9;nsuperior 207f;" +
  "ntilde f1;nu 3bd;numbersign 23;numeralsigngreek 374;numeralsignlowergreek 375;numero 2116;" +
  "o 6f;oacute f3;obarred 275;obarredcyrillic 4e9;obarreddieresiscyrillic 4eb;obreve 14f;" +
  "ocaron 1d2;ocircle 24de;ocircumflex f4;ocircumflexacute 1ed1;ocircumflexdotbelow 1ed9;" +
  "ocircumflexgrave 1ed3;ocircumflexhookabove 1ed5;ocircumflextilde 1ed7;ocyrillic 43e;" +
  "odblacute 151;odblgrave 20d;odieresis f6;odieresiscyrillic 4e7;odotbelow 1ecd;oe 153;" +
  "ogonek 2db;ogonekcmb 328;ograve f2;ohookabove 1ecf;ohorn 1a1;ohornacute 1edb;" +
  "ohorndotbelow 1ee3;ohorngrave 1edd;ohornhookabove 1edf;ohorntilde 1ee1;ohungarumlaut 151;" +
  "oi 1a3;oinvertedbreve 20f;omacron 14d;omacronacute 1e53;omacrongrave 1e51;omega 3c9;" +
  "omega1 3d6;omegacyrillic 461;omegalatinclosed 277;omegaroundcyrillic 47b;" +
  "omegatitlocyrillic 47d;omegatonos 3ce;omicron 3bf;omicrontonos 3cc;one 31;onecircle 2460;" +
  "onecircleinversesansserif 278a;onedotenleader 2024;oneeighth 215b;onehalf bd;oneinferior 2081;" +
  "oneparen 2474;oneperiod 2488;onequarter bc;oneroman 2170;onesuperior b9;onethird 2153;" +
  "oogonek 1eb;oogonekmacron 1ed;oopen 254;oparen 24aa;openbullet 25e6;option 2325;" +
  "ordfeminine aa;ordmasculine ba;orthogonal 221f;oslash f8;oslashacute 1ff;ostrokeacute 1ff;" +
  "otcyrillic 47f;otilde f5;otildeacute 1e4d;otildedieresis 1e4f;overline 203e;overlinecmb 305;" +
  "overscore af;p 70;pacute 1e55;pagedown 21df;pageup 21de;palatalizationcyrilliccmb 484;" +
  "palochkacyrillic 4c0;paragraph b6;parallel 2225;parenleft 28;parenleftinferior 208d;" +
  "parenleftsuperior 207d;parenright 29;parenrightinferior 208e;parenrightsuperior 207e;" +
  "partialdiff 2202;pcircle 24df;pdotaccent 1e57;pecyrillic 43f;pemiddlehookcyrillic 4a7;" +
  "percent 25;period 2e;periodcentered b7;perispomenigreekcmb 342;perpendicular 22a5;" +
  "perthousand 2030;peseta 20a7;phi 3c6;phi1 3d5;philatin 278;phisymbolgreek 3d5;phook 1a5;" +
  "pi 3c0;pisymbolgreek 3d6;plus 2b;plusbelowcmb 31f;pluscircle 2295;plusminus b1;plusmod 2d6;" +
  "plussuperior 207a;pointingindexdownwhite 261f;pointingindexleftwhite 261c;" +
  "pointingindexrightwhite 261e;pointingindexupwhite 261d;pparen 24ab;precedes 227a;" +
  "prescription 211e;primemod 2b9;primereversed 2035;product 220f;projective 2305;propellor 2318;" +
  "propersubset 2282;propersuperset 2283;proportion 2237;proportional 221d;psi 3c8;" +
  "psicyrillic 471;psilipneumatacyrilliccmb 486;q 71;qcircle 24e0;qhook 2a0;qparen 24ac;" +
  "quarternote 2669;question 3f;questiondown bf;questiongreek 37e;quotedbl 22;quotedblbase 201e;" +
  "quotedblleft 201c;quotedblright 201d;quoteleft 2018;quoteleftreversed 201b;quotereversed 201b;" +
  "quoteright 2019;quoterightn 149;quotesinglbase 201a;quotesingle 27;r 72;racute 155;" +
  "radical 221a;ramshorn 264;ratio 2236;rcaron 159;rcedilla 157;rcircle 24e1;rcommaaccent 157;" +
  "rdblgrave 211;rdotaccent 1e59;rdotbelow 1e5b;rdotbelowmacron 1e5d;referencemark 203b;" +
  "reflexsubset 2286;reflexsuperset 2287;registered ae;reversedtilde 223d;revlogicalnot 2310;" +
  "rfishhook 27e;rfishhookreversed 27f;rho 3c1;rhook 27d;rhookturned 27b;rhookturnedsuperior 2b5;" +
  "rhosymbolgreek 3f1;rhotichookmod 2de;rightangle 221f;righttackbelowcmb 319;righttriangle 22bf;" +
  "ring 2da;ringbelowcmb 325;ringcmb 30a;ringhalfleft 2bf;ringhalfleftbelowcmb 31c;" +
  "ringhalfleftcentered 2d3;ringhalfright 2be;ringhalfrightbelowcmb 339;" +
  "ringhalfrightcentered 2d2;rinvertedbreve 213;rlinebelow 1e5f;rlongleg 27c;rlonglegturned 27a;" +
  "rparen 24ad;rtblock 2590;rturned 279;rturnedsuperior 2b4;s 73;sacute 15b;sacutedotaccent 1e65;" +
  "scaron 161;scarondotaccent 1e67;scedilla 15f;schwa 259;schwacyrillic 4d9;" +
  "schwadieresiscyrillic 4db;schwahook 25a;scircle 24e2;scircumflex 15d;scommaaccent 219;" +
  "sdotaccent 1e61;sdotbelow 1e63;sdotbelowdotaccent 1e69;seagullbelowcmb 33c;second 2033;" +
  "secondtonechinese 2ca;section a7;semicolon 3b;seven 37;sevencircle 2466;" +
  "sevencircleinversesansserif 2790;seveneighths 215e;seveninferior 2087;sevenparen 247a;" +
  "sevenperiod 248e;sevenroman 2176;sevensuperior 2077;seventeencircle 2470;seventeenparen 2484;" +
  "seventeenperiod 2498;sfthyphen ad;shacyrillic 448;shade 2592;shadedark 2593;shadelight 2591;" +
  "shademedium 2592;shchacyrillic 449;sheicoptic 3e3;sheqel 20aa;sheqelhebrew 20aa;" +
  "shhacyrillic 4bb;shimacoptic 3ed;shook 282;sigma 3c3;sigma1 3c2;sigmafinal 3c2;" +
  "sigmalunatesymbolgreek 3f2;similar 223c;six 36;sixcircle 2465;sixcircleinversesansserif 278f;" +
  "sixinferior 2086;sixparen 2479;sixperiod 248d;sixroman 2175;sixsuperior 2076;" +
  "sixteencircle 246f;sixteenparen 2483;sixteenperiod 2497;slash 2f;slong 17f;" +
  "slongdotaccent 1e9b;smileface 263a;softhyphen ad;softsigncyrillic 44c;" +
  "soliduslongoverlaycmb 338;solidusshortoverlaycmb 337;space 20;spacehackarabic 20;spade 2660;" +
  "spadesuitblack 2660;spadesuitwhite 2664;sparen 24ae;squarebelowcmb 33b;" +
  "squarediagonalcrosshatchfill 25a9;squarehorizontalfill 25a4;" +
  "squareorthogonalcrosshatchfill 25a6;squareupperlefttolowerrightfill 25a7;" +
  "squareupperrighttolowerleftfill 25a8;squareverticalfill 25a5;squarewhitewithsmallblack 25a3;" +
  "sterling a3;strokelongoverlaycmb 336;strokeshortoverlaycmb 335;subset 2282;" +
  "subsetnotequal 228a;subsetorequal 2286;succeeds 227b;suchthat 220b;summation 2211;sun 263c;" +
  "superset 2283;supersetnotequal 228b;supersetorequal 2287;t 74;tackdown 22a4;tackleft 22a3;" +
  "tau 3c4;tbar 167;tcaron 165;tccurl 2a8;tcedilla 163;tcircle 24e3;tcircumflexbelow 1e71;" +
  "tcommaaccent 163;tdieresis 1e97;tdotaccent 1e6b;tdotbelow 1e6d;tecyrillic 442;" +
  "tedescendercyrillic 4ad;telephone 2121;telephoneblack 260e;tencircle 2469;tenparen 247d;" +
  "tenperiod 2491;tenroman 2179;tesh 2a7;tetsecyrillic 4b5;thereexists 2203;therefore 2234;" +
  "theta 3b8;theta1 3d1;thetasymbolgreek 3d1;thirteencircle 246c;thirteenparen 2480;" +
  "thirteenperiod 2494;thook 1ad;thorn fe;thousandcyrillic 482;three 33;threecircle 2462;" +
  "threecircleinversesansserif 278c;threeeighths 215c;threeinferior 2083;threeparen 2476;" +
  "threeperiod 248a;threequarters be;threeroman 2172;threesuperior b3;tilde 2dc;" +
  "tildebelowcmb 330;tildecmb 303;tildecomb 303;tildedoublecmb 360;tildeoperator 223c;" +
  "tildeoverlaycmb 334;tildeverticalcmb 33e;timescircle 2297;titlocyrilliccmb 483;" +
  "tlinebelow 1e6f;tonebarextrahighmod 2e5;tonebarextralowmod 2e9;tonebarhighmod 2e6;" +
  "tonebarlowmod 2e8;tonebarmidmod 2e7;tonefive 1bd;tonesix 185;tonetwo 1a8;tonos 384;" +
  "tpalatalhook 1ab;tparen 24af;trademark 2122;tretroflexhook 288;triagdn 25bc;triaglf 25c4;" +
  "triagrt 25ba;triagup 25b2;ts 2a6;tsecyrillic 446;tshecyrillic 45b;tturned 287;" +
  "twelvecircle 246b;twelveparen 247f;twelveperiod 2493;twelveroman 217b;twentycircle 2473;" +
  "twentyparen 2487;twentyperiod 249b;two 32;twocircle 2461;twocircleinversesansserif 278b;" +
  "twodotenleader 2025;twodotleader 2025;twoinferior 2082;twoparen 2475;twoperiod 2489;" +
  "tworoman 2171;twostroke 1bb;twosuperior b2;twothirds 2154;u 75;uacute fa;ubar 289;ubreve 16d;" +
  "ucaron 1d4;ucircle 24e4;ucircumflex fb;ucircumflexbelow 1e77;ucyrillic 443;udblacute 171;" +
  "udblgrave 215;udieresis fc;udieresisacute 1d8;udieresisbelow 1e73;udieresiscaron 1da;" +
  "udieresiscyrillic 4f1;udieresisgrave 1dc;udieresismacron 1d6;udotbelow 1ee5;ugrave f9;" +
  "uhookabove 1ee7;uhorn 1b0;uhornacute 1ee9;uhorndotbelow 1ef1;uhorngrave 1eeb;" +
  "uhornhookabove 1eed;uhorntilde 1eef;uhungarumlaut 171;uhungarumlautcyrillic 4f3;" +
  "uinvertedbreve 217;ukcyrillic 479;umacron 16b;umacroncyrillic 4ef;umacrondieresis 1e7b;" +
  "underscore 5f;underscoredbl 2017;union 222a;universal 2200;uogonek 173;uparen 24b0;" +
  "upblock 2580;upsilon 3c5;upsilondieresis 3cb;upsilondieresistonos 3b0;upsilonlatin 28a;" +
  "upsilontonos 3cd;uptackbelowcmb 31d;uptackmod 2d4;uring 16f;ushortcyrillic 45e;" +
  "ustraightcyrillic 4af;ustraightstrokecyrillic 4b1;utilde 169;utildeacute 1e79;" +
  "utildebelow 1e75;v 76;vcircle 24e5;vdotbelow 1e7f;vecyrillic 432;venus 2640;verticalbar 7c;" +
  "verticallineabovecmb 30d;verticallinebelowcmb 329;verticallinelowmod 2cc;verticallinemod 2c8;" +
  "vhook 28b;vparen 24b1;vtilde 1e7d;vturned 28c;w 77;wacute 1e83;wcircle 24e6;wcircumflex 175;" +
  "wdieresis 1e85;wdotaccent 1e87;wdotbelow 1e89;weierstrass 2118;wgrave 1e81;whitebullet 25e6;" +
  "whitecircle 25cb;whitecircleinverse 25d9;whitediamond 25c7;" +
  "whitediamondcontainingblacksmalldiamond 25c8;whitedownpointingsmalltriangle 25bf;" +
  "whitedownpointingtriangle 25bd;whiteleftpointingsmalltriangle 25c3;" +
  "whiteleftpointingtriangle 25c1;whiterightpointingsmalltriangle 25b9;" +
  "whiterightpointingtriangle 25b7;whitesmallsquare 25ab;whitesmilingface 263a;whitesquare 25a1;" +
  "whitestar 2606;whitetelephone 260f;whiteuppointingsmalltriangle 25b5;" +
  "whiteuppointingtriangle 25b3;won 20a9;wparen 24b2;wring 1e98;wsuperior 2b7;wturned 28d;" +
  "wynn 1bf;x 78;xabovecmb 33d;xcircle 24e7;xdieresis 1e8d;xdotaccent 1e8b;xi 3be;xparen 24b3;" +
  "xsuperior 2e3;y 79;yacute fd;yatcyrillic 463;ycircle 24e8;ycircumflex 177;ydieresis ff;" +
  "ydotaccent 1e8f;ydotbelow 1ef5;yen a5;yericyrillic 44b;yerudieresiscyrillic 4f9;ygrave 1ef3;" +
  "yhook 1b4;yhookabove 1ef7;yicyrillic 457;yinyang 262f;yotgreek 3f3;yparen 24b4;" +
  "ypogegrammeni 37a;ypogegrammenigreekcmb 345;yr 1a6;yring 1e99;ysuperior 2b8;ytilde 1ef9;" +
  "yturned 28e;yusbigcyrillic 46b;yusbigiotifiedcyrillic 46d;yuslittlecyrillic 467;" +
  "yuslittleiotifiedcyrillic 469;z 7a;zacute 17a;zcaron 17e;zcircle 24e9;zcircumflex 1e91;" +
  "zcurl 291;zdot 17c;zdotaccent 17c;zdotbelow 1e93;zecyrillic 437;zedescendercyrillic 499;" +
  "zedieresiscyrillic 4df;zero 30;zeroinferior 2080;zerosuperior 2070;zerowidthnonjoiner 200c;" +
  "zerowidthspace 200b;zeta 3b6;zhebrevecyrillic 4c2;zhecyrillic 436;zhedescendercyrillic 497;" +
  "zhedieresiscyrillic 4dd;zlinebelow 1e95;zparen 24b5;zretroflexhook 290;zstroke 1b6";

let aglTable: Map<string, string> | undefined;

function aglLookup(name: string): string | undefined {
  if (aglTable === undefined) {
    aglTable = new Map();
    for (const entry of AGL_DATA.split(";")) {
      const [glyph, ...hex] = entry.split(" ");
      aglTable.set(glyph, String.fromCodePoint(...hex.map((h) => parseInt(h, 16))));
    }
  }
  return aglTable.get(name);
}

// The AGL specification only accepts uppercase hex digits here; lowercase would also turn ordinary
// glyph names such as "ubeef" into code points.
const UNI_NAME = /^uni((?:[0-9A-F]{4})+)$/;
const U_NAME = /^u([0-9A-F]{4,6})$/;

function isSurrogate(codePoint: number): boolean {
  return codePoint >= 0xd800 && codePoint <= 0xdfff;
}

function componentUnicode(component: string): string | undefined {
  const listed = aglLookup(component);
  if (listed !== undefined) return listed;
  const uni = UNI_NAME.exec(component);
  if (uni) {
    let text = "";
    for (let i = 0; i < uni[1].length; i += 4) {
      const codePoint = parseInt(uni[1].slice(i, i + 4), 16);
      if (isSurrogate(codePoint)) return undefined;
      text += String.fromCharCode(codePoint);
    }
    return text;
  }
  const u = U_NAME.exec(component);
  if (u) {
    const codePoint = parseInt(u[1], 16);
    if (isSurrogate(codePoint) || codePoint > 0x10ffff) return undefined;
    return String.fromCodePoint(codePoint);
  }
  return undefined;
}

/**
 * The Unicode text a glyph name stands for, by the Adobe Glyph List rules: AGL names (table),
 * "uniXXXX" (one or more 4-hex-digit groups, each a BMP code point, surrogates rejected), "uXXXX"
 * to "uXXXXXX" (one code point), a name with a suffix after the first "." ("a.sc", "one.oldstyle")
 * reads as the part before it, and "_" joins components ("f_f_i" -> "ffi"). Undefined when any
 * component is unknown.
 */
export function glyphUnicode(name: string): string | undefined {
  const dot = name.indexOf(".");
  const base = dot < 0 ? name : name.slice(0, dot);
  let text = "";
  for (const component of base.split("_")) {
    const part = componentUnicode(component);
    if (part === undefined) return undefined;
    text += part;
  }
  return text;
}

// Each encoding is stored as its differences from printable ASCII (0x20-0x7E): "code unicode"
// pairs in hex joined by ",", "-" for a code with no glyph. Codes below 0x20 and 0x7F have no
// glyph in any of the three.
function buildEncoding(differences: string): readonly string[] {
  const table: string[] = [];
  for (let code = 0; code < 256; code++) {
    table.push(code >= 0x20 && code < 0x7f ? String.fromCharCode(code) : "");
  }
  for (const pair of differences.split(",")) {
    const [code, unicode] = pair.split(" ");
    table[parseInt(code, 16)] = unicode === "-" ? "" : String.fromCodePoint(parseInt(unicode, 16));
  }
  return Object.freeze(table);
}

/**
 * WinAnsiEncoding (PDF 32000-1 Annex D): code (0-255) -> Unicode text, "" where the encoding has no
 * glyph. Close to cp1252, but 0xA0 is the space glyph and 0xAD the hyphen glyph, so they read as
 * " " and "-"; the unused codes 0x7F, 0x81, 0x8D, 0x8F, 0x90 and 0x9D are "" (the spec's note lets
 * readers show them as bullets, but the table itself leaves them empty).
 */
export const WIN_ANSI_ENCODING: readonly string[] = buildEncoding(
  "80 20ac,82 201a,83 192,84 201e,85 2026,86 2020,87 2021,88 2c6,89 2030,8a 160,8b 2039," +
    "8c 152,8e 17d,91 2018,92 2019,93 201c,94 201d,95 2022,96 2013,97 2014,98 2dc,99 2122," +
    "9a 161,9b 203a,9c 153,9e 17e,9f 178,a0 20,a1 a1,a2 a2,a3 a3,a4 a4,a5 a5,a6 a6,a7 a7," +
    "a8 a8,a9 a9,aa aa,ab ab,ac ac,ad 2d,ae ae,af af,b0 b0,b1 b1,b2 b2,b3 b3,b4 b4,b5 b5," +
    "b6 b6,b7 b7,b8 b8,b9 b9,ba ba,bb bb,bc bc,bd bd,be be,bf bf,c0 c0,c1 c1,c2 c2,c3 c3," +
    "c4 c4,c5 c5,c6 c6,c7 c7,c8 c8,c9 c9,ca ca,cb cb,cc cc,cd cd,ce ce,cf cf,d0 d0,d1 d1," +
    "d2 d2,d3 d3,d4 d4,d5 d5,d6 d6,d7 d7,d8 d8,d9 d9,da da,db db,dc dc,dd dd,de de,df df," +
    "e0 e0,e1 e1,e2 e2,e3 e3,e4 e4,e5 e5,e6 e6,e7 e7,e8 e8,e9 e9,ea ea,eb eb,ec ec,ed ed," +
    "ee ee,ef ef,f0 f0,f1 f1,f2 f2,f3 f3,f4 f4,f5 f5,f6 f6,f7 f7,f8 f8,f9 f9,fa fa,fb fb," +
    "fc fc,fd fd,fe fe,ff ff",
);

/**
 * StandardEncoding (Adobe's, as PDF 32000-1 Annex D lists it): code (0-255) -> Unicode text, ""
 * where the encoding has no glyph. 0x27 is quoteright (U+2019) and 0x60 quoteleft (U+2018).
 */
export const STANDARD_ENCODING: readonly string[] = buildEncoding(
  "27 2019,60 2018,a1 a1,a2 a2,a3 a3,a4 2044,a5 a5,a6 192,a7 a7,a8 a4,a9 27,aa 201c,ab ab," +
    "ac 2039,ad 203a,ae fb01,af fb02,b1 2013,b2 2020,b3 2021,b4 b7,b6 b6,b7 2022,b8 201a," +
    "b9 201e,ba 201d,bb bb,bc 2026,bd 2030,bf bf,c1 60,c2 b4,c3 2c6,c4 2dc,c5 af,c6 2d8," +
    "c7 2d9,c8 a8,ca 2da,cb b8,cd 2dd,ce 2db,cf 2c7,d0 2014,e1 c6,e3 aa,e8 141,e9 d8,ea 152," +
    "eb ba,f1 e6,f5 131,f8 142,f9 f8,fa 153,fb df",
);

/**
 * MacRomanEncoding as PDF 32000-1 Annex D defines it: code (0-255) -> Unicode text, "" where the
 * encoding has no glyph. Unlike Apple's Mac OS Roman it only holds glyphs of the Latin character
 * set, so the 15 math and symbol positions (0xAD notequal, 0xB0 infinity, ..., 0xF0 apple) are "";
 * 0xCA is the space glyph and 0xDB currency (U+00A4), not the euro.
 */
export const MAC_ROMAN_ENCODING: readonly string[] = buildEncoding(
  "80 c4,81 c5,82 c7,83 c9,84 d1,85 d6,86 dc,87 e1,88 e0,89 e2,8a e4,8b e3,8c e5,8d e7," +
    "8e e9,8f e8,90 ea,91 eb,92 ed,93 ec,94 ee,95 ef,96 f1,97 f3,98 f2,99 f4,9a f6,9b f5," +
    "9c fa,9d f9,9e fb,9f fc,a0 2020,a1 b0,a2 a2,a3 a3,a4 a7,a5 2022,a6 b6,a7 df,a8 ae,a9 a9," +
    "aa 2122,ab b4,ac a8,ae c6,af d8,b1 b1,b4 a5,b5 b5,bb aa,bc ba,be e6,bf f8,c0 bf,c1 a1," +
    "c2 ac,c4 192,c7 ab,c8 bb,c9 2026,ca 20,cb c0,cc c3,cd d5,ce 152,cf 153,d0 2013,d1 2014," +
    "d2 201c,d3 201d,d4 2018,d5 2019,d6 f7,d8 ff,d9 178,da 2044,db a4,dc 2039,dd 203a," +
    "de fb01,df fb02,e0 2021,e1 b7,e2 201a,e3 201e,e4 2030,e5 c2,e6 ca,e7 c1,e8 cb,e9 c8," +
    "ea cd,eb ce,ec cf,ed cc,ee d3,ef d4,f1 d2,f2 da,f3 db,f4 d9,f5 131,f6 2c6,f7 2dc,f8 af," +
    "f9 2d8,fa 2d9,fb 2da,fc b8,fd 2dd,fe 2db,ff 2c7",
);

// The 231 code points every Latin standard font has a glyph for, ascending, in hex. U+00A0
// and U+00AD are not glyphs of their own but WinAnsi text decoded elsewhere (cp1252, ToUnicode
// maps) produces them, so they carry the space and hyphen widths.
const WIDTH_CODE_POINTS =
  "20 21 22 23 24 25 26 27 28 29 2a 2b 2c 2d 2e 2f 30 31 32 33 34 35 36 37 38 39 3a 3b 3c 3d 3e " +
  "3f 40 41 42 43 44 45 46 47 48 49 4a 4b 4c 4d 4e 4f 50 51 52 53 54 55 56 57 58 59 5a 5b 5c 5d " +
  "5e 5f 60 61 62 63 64 65 66 67 68 69 6a 6b 6c 6d 6e 6f 70 71 72 73 74 75 76 77 78 79 7a 7b 7c " +
  "7d 7e a0 a1 a2 a3 a4 a5 a6 a7 a8 a9 aa ab ac ad ae af b0 b1 b2 b3 b4 b5 b6 b7 b8 b9 ba bb bc " +
  "bd be bf c0 c1 c2 c3 c4 c5 c6 c7 c8 c9 ca cb cc cd ce cf d0 d1 d2 d3 d4 d5 d6 d7 d8 d9 da db " +
  "dc dd de df e0 e1 e2 e3 e4 e5 e6 e7 e8 e9 ea eb ec ed ee ef f0 f1 f2 f3 f4 f5 f6 f7 f8 f9 fa " +
  "fb fc fd fe ff 131 141 142 152 153 160 161 178 17d 17e 192 2c6 2c7 2d8 2d9 2da 2db 2dc 2dd " +
  "2013 2014 2018 2019 201a 201c 201d 201e 2020 2021 2022 2026 2030 2039 203a 2044 20ac 2122 " +
  "2212 fb01 fb02";

// Widths in the order of WIDTH_CODE_POINTS, two base-36 digits each. The oblique Helvetica faces
// share the upright ones' widths (Adobe's AFM files agree), and Courier is 600 throughout, so
// Courier stores nothing.
const HELVETICA =
  "7q7q9vfgfgopij5b9999atg87q997q7qfgfgfgfgfgfgfgfgfgfg7q7qg8g8g8fgs7ijijk2k2ijgzlmk27qdwijfgn5" +
  "k2lmijlmk2ijgzk2ijq8ijijgz7q7q7qd1fg99fgfgdwfgfg7qfgfg6666dw66n5fgfgfgfg99dw7qfgdwk2dwdwdw9a" +
  "789ag87q99fgfgfgfg78fg99khaafgg899kh99b4g8999999g2ex7q9999a5fgn6n6n6gzijijijijijijrsk2ijijij" +
  "ij7q7q7q7qk2k2lmlmlmlmlmg8lmk2k2k2k2ijijgzfgfgfgfgfgfgopdwfgfgfgfg7q7q7q7qfgfgfgfgfgfgfgg8gz" +
  "fgfgfgfgdwfgdw7qfg66rsq8ijdwijgzdwfg9999999999999999fgrs666666999999fgfg9qrsrs99994nfgrsg8dw" +
  "dw";
const HELVETICA_BOLD =
  "7q99d6fgfgopk26m9999atg87q997q7qfgfgfgfgfgfgfgfgfgfg9999g8g8g8gzr3k2k2k2k2ijgzlmk27qfgk2gzn5" +
  "k2lmijlmk2ijgzk2ijq8ijijgz997q99g8fg99fggzfggzfg99gzgz7q7qfg7qopgzgzgzgzatfg99gzfglmfgfgdwat" +
  "7satg87q99fgfgfgfg7sfg99khaafgg899kh99b4g8999999gzfg7q9999a5fgn6n6n6gzk2k2k2k2k2k2rsk2ijijij" +
  "ij7q7q7q7qk2k2lmlmlmlmlmg8lmk2k2k2k2ijijgzfgfgfgfgfgfgopfgfgfgfgfg7q7q7q7qgzgzgzgzgzgzgzg8gz" +
  "gzgzgzgzfggzfg7qgz7qrsq8ijfgijgzdwfg9999999999999999fgrs7q7q7qdwdwdwfgfg9qrsrs99994nfgrsg8gz" +
  "gz";
const TIMES_ROMAN =
  "6y99bcdwdwn5lm509999dwfo6y996y7qdwdwdwdwdwdwdwdwdwdw7q7qfofofoccplk2ijijk2gzfgk2k299atk2gzop" +
  "k2k2fgk2ijfggzk2k2q8k2k2gz997q99d1dw99ccdwccdwcc99dwdw7q7qdw7qlmdwdwdwdw99at7qdwdwk2dwdwccdc" +
  "5kdcf16y99dwdwdwdw5kdw99l47odwfo99l499b4fo8c8c99e6cl6y998c8mdwkukukucck2k2k2k2k2k2opijgzgzgz" +
  "gz99999999k2k2k2k2k2k2k2fok2k2k2k2k2k2fgdwccccccccccccijcccccccccc7q7q7q7qdwdwdwdwdwdwdwfodw" +
  "dwdwdwdwdwdwdw7qgz7qopk2fgatk2gzccdw9999999999999999dwrs999999ccccccdwdw9qrsrs99994ndwr8fofg" +
  "fg";
const TIMES_BOLD =
  "6y99ffdwdwrsn57q9999dwfu6y996y7qdwdwdwdwdwdwdwdwdwdw9999fufufudwpuk2ijk2k2ijgzlmlmatdwlmijq8" +
  "k2lmgzlmk2fgijk2k2rsk2k2ij997q99g5dw99dwfgccfgcc99dwfg7q99fg7qn5fgdwfgfgccat99fgdwk2dwdwccay" +
  "64ayeg6y99dwdwdwdw64dw99kr8cdwfu99kr99b4fu8c8c99gpf06y998c96dwkukukudwk2k2k2k2k2k2rsk2ijijij" +
  "ijatatatatk2k2lmlmlmlmlmfulmk2k2k2k2k2gzfgdwdwdwdwdwdwk2cccccccccc7q7q7q7qdwfgdwdwdwdwdwfudw" +
  "fgfgfgfgdwfgdw7qij7qrsk2fgatk2ijccdw9999999999999999dwrs999999dwdwdwdwdw9qrsrs99994ndwrsfufg" +
  "fg";
const TIMES_ITALIC =
  "6y99bodwdwn5lm5y9999dwir6y996y7qdwdwdwdwdwdwdwdwdwdw9999iririrdwpkgzgzijk2gzgzk2k299ccijfgn5" +
  "ijk2gzk2gzdwfgk2gzn5gzfgfgat7qatbqdw99dwdwccdwcc7qdwdw7q7qcc7qk2dwdwdwdwatat7qdwccijccccatb4" +
  "7nb4f16yatdwdwdwdw7ndw99l47odwir99l499b4ir8c8c99eaej6y998c8mdwkukukudwgzgzgzgzgzgzopijgzgzgz" +
  "gz99999999k2ijk2k2k2k2k2irk2k2k2k2k2fggzdwdwdwdwdwdwdwijcccccccccc7q7q7q7qdwdwdwdwdwdwdwirdw" +
  "dwdwdwdwccdwcc7qfg7qq8ijdwatfgfgatdw9999999999999999dwop999999fgfgfgdwdw9qoprs99994ndwr8irdw" +
  "dw";
const TIMES_BOLD_ITALIC =
  "6yatffdwdwn5lm7q9999dwfu6y996y7qdwdwdwdwdwdwdwdwdwdw9999fufufudwn4ijijijk2ijijk2lmatdwijgzop" +
  "k2k2gzk2ijfggzk2ijopijgzgz997q99fudw99dwdwccdwcc99dwfg7q7qdw7qlmfgdwdwdwatat7qfgccijdwccat9o" +
  "649ofu6yatdwdwdwdw64dw99kr7edwgu99kr99b4fu8c8c99esdw6y998c8cdwkukukudwijijijijijijq8ijijijij" +
  "ijatatatatk2k2k2k2k2k2k2fuk2k2k2k2k2gzgzdwdwdwdwdwdwdwk2cccccccccc7q7q7q7qdwfgdwdwdwdwdwfudw" +
  "fgfgfgfgccdwcc7qgz7qq8k2fgatgzgzatdw9999999999999999dwrs999999dwdwdwdwdw9qrsrs99994ndwrsgufg" +
  "fg";

// Style order: regular, bold, italic/oblique, bold italic/oblique.
const FAMILY_WIDTHS: Record<"helvetica" | "times" | "courier", readonly (string | undefined)[]> = {
  helvetica: [HELVETICA, HELVETICA_BOLD, HELVETICA, HELVETICA_BOLD],
  times: [TIMES_ROMAN, TIMES_BOLD, TIMES_ITALIC, TIMES_BOLD_ITALIC],
  courier: [undefined, undefined, undefined, undefined],
};

// Family names as written before the first "-" once spaces are dropped, "," and "_" read as "-"
// and case is ignored: the standard names plus the Windows core fonts that PDF readers substitute
// them for (Arial and Times New Roman are metric-compatible with Helvetica and Times).
const FAMILIES = new Map<string, keyof typeof FAMILY_WIDTHS>([
  ["helvetica", "helvetica"],
  ["arial", "helvetica"],
  ["arialmt", "helvetica"],
  ["times", "times"],
  ["timesnewroman", "times"],
  ["timesnewromanps", "times"],
  ["timesnewromanpsmt", "times"],
  ["courier", "courier"],
  ["couriernew", "courier"],
  ["couriernewps", "courier"],
  ["couriernewpsmt", "courier"],
]);

const STYLES = new Map<string, number>([
  ["", 0],
  ["roman", 0],
  ["regular", 0],
  ["bold", 1],
  ["boldmt", 1],
  ["italic", 2],
  ["italicmt", 2],
  ["oblique", 2],
  ["bolditalic", 3],
  ["bolditalicmt", 3],
  ["boldoblique", 3],
]);

const SUBSET_PREFIX = /^[A-Z]{6}\+/;

let codePoints: number[] | undefined;
const widthLookups = new Map<string, (codePoint: number) => number | undefined>();

function widthLookup(family: keyof typeof FAMILY_WIDTHS, style: number) {
  const key = `${family}/${style}`;
  let lookup = widthLookups.get(key);
  if (lookup === undefined) {
    codePoints ??= WIDTH_CODE_POINTS.split(" ").map((h) => parseInt(h, 16));
    const widths = FAMILY_WIDTHS[family][style];
    const table = new Map<number, number>();
    codePoints.forEach((codePoint, i) => {
      const width = widths === undefined ? 600 : parseInt(widths.slice(2 * i, 2 * i + 2), 36);
      table.set(codePoint, width);
    });
    lookup = (codePoint) => table.get(codePoint);
    widthLookups.set(key, lookup);
  }
  return lookup;
}

/**
 * Advance widths (1/1000 em) by Unicode code point for the 12 non-symbolic standard 14 fonts
 * (Helvetica, Times, Courier families), looked up by a /BaseFont name: the exact standard names, a
 * subset prefix ("ABCDEF+") stripped, and the aliases PDF readers accept ("Arial", "ArialMT",
 * "Arial,Bold", "Arial-BoldMT", "TimesNewRomanPSMT", "Times New Roman,Italic",
 * "CourierNewPS-BoldMT", "Helvetica,Bold"...). Undefined for any other name, Symbol and
 * ZapfDingbats included (their built-in encodings are not handled). The returned function gives
 * undefined for a code point the font has no glyph for; Courier is 600 for every glyph it has.
 */
export function standardFontWidths(
  baseFont: string,
): ((codePoint: number) => number | undefined) | undefined {
  const name = baseFont.replace(SUBSET_PREFIX, "").replace(/\s+/g, "").replace(/[,_]/g, "-");
  const key = name.toLowerCase();
  const dash = key.indexOf("-");
  const family = FAMILIES.get(dash < 0 ? key : key.slice(0, dash));
  const style = STYLES.get(dash < 0 ? "" : key.slice(dash + 1));
  if (family === undefined || style === undefined) return undefined;
  return widthLookup(family, style);
}
