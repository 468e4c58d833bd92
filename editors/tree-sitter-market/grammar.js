/**
 * tree-sitter grammar for prillm `.market` files. It follows grammar/market.pest, the one
 * definition of the syntax; tests/editors.rs checks that both know the same keywords.
 *
 * Where pest looks ahead (a unit word is never followed by `=`, `[`, `~` or `(`), this
 * grammar lets GLR try both readings: `seed = 11  taste ~ …` is a number, then a field.
 */

const commaSep1 = (rule) => seq(rule, repeat(seq(',', rule)));
const commaSep = (rule) => optional(commaSep1(rule));

module.exports = grammar({
  name: 'market',

  extras: ($) => [/\s/, $.comment],
  word: ($) => $.identifier,
  // As in market.pest's keyword trie: a keyword is never a name or a unit word.
  reserved: {
    global: (_) => [
      'import', 'in', 'market', 'maximize', 'qos', 'weight', 'weights', 'provider', 'per',
      'pairwise', 'user', 'unit', 'segment', 'subject', 'solve', 'step', 'firm', 'from',
      'owns', 'to', 'table', 'chooser', 'congestion', 'default',
    ],
  },
  conflicts: ($) => [[$.quantity], [$.unit], [$.distribution]],

  rules: {
    source_file: ($) => repeat($._item),

    _item: ($) =>
      choice(
        $.import,
        $.market,
        $.qos,
        $.weights,
        $.provider,
        $.user,
        $.segment,
        $.firm,
        $.maximize,
        $.subject_to,
        $.table,
        $.solve,
      ),

    import: ($) => seq('import', $.string),
    market: ($) => seq('market', field('name', $._name), $.block),
    qos: ($) =>
      seq(
        'qos',
        field('name', $._name),
        ':',
        choice('congestion', seq($.unit, optional('pairwise'))),
        optional(seq('default', $.quantity)),
      ),
    weights: ($) => seq('weights', $.block),
    provider: ($) => seq('provider', field('name', $._name), $.block),
    user: ($) => seq('user', field('name', $._name), optional('chooser'), $.block),
    segment: ($) => seq('segment', field('name', $._name), optional('chooser'), $.block),
    firm: ($) =>
      seq('firm', field('name', $._name), 'owns', commaSep1($._name), optional($.block)),
    maximize: ($) => seq('maximize', $.call),
    subject_to: ($) =>
      seq(
        'subject',
        'to',
        optional(seq(field('label', $.identifier), ':')),
        $.lin_expr,
        $.relop,
        $.lin_expr,
      ),
    table: ($) =>
      seq('table', field('name', $._name), 'from', $.string, optional(seq('unit', $.unit))),
    solve: ($) => seq('solve', field('method', $._name), repeat($.option)),
    option: ($) => seq(field('key', $.identifier), '=', $._value),

    block: ($) => seq('{', repeat($.statement), '}'),
    statement: ($) => seq($.target, choice(seq('=', $._value), $.draw, $.range)),
    target: ($) =>
      choice(seq('weight', field('field', $._name)), seq(field('field', $._name), optional($.index))),
    index: ($) => seq('[', $._name, ']'),
    draw: ($) => seq('~', $.distribution, optional(seq('per', 'provider'))),
    range: ($) => seq('in', $.quantity, '..', $.quantity, optional(seq('step', $.quantity))),

    _value: ($) => choice($.quantity, $.string, $.identifier),

    distribution: ($) =>
      seq(field('name', $.identifier), '(', commaSep($.dist_arg), ')', optional($.unit)),
    dist_arg: ($) => seq($.number, optional(seq('@', $.quantity))),

    lin_expr: ($) => seq(optional(choice('-', '+')), $.term, repeat(seq(choice('+', '-'), $.term))),
    term: ($) => seq($._factor, repeat(seq('*', $._factor))),
    _factor: ($) => choice($.call, $.quantity),
    call: ($) => seq(field('function', $.identifier), '(', $._name, ')'),
    relop: ($) => choice('<=', '>=', '==', '='),

    quantity: ($) => seq($.number, optional($.unit)),
    unit: ($) => seq($._unit_word, repeat(seq(choice('/', 'per'), $._unit_word))),
    _unit_word: ($) => choice(alias($.identifier, $.unit_word), alias('%', $.unit_word)),

    _name: ($) => choice($.identifier, $.string),
    identifier: (_) => /[A-Za-z_][A-Za-z0-9_-]*/,
    number: (_) => /-?(inf|[0-9][0-9_]*(\.[0-9][0-9_]*)?([eE][+-]?[0-9]+)?)/,
    string: (_) => seq('"', repeat(choice(/[^"\\\n]+/, /\\["\\]/)), '"'),
    comment: (_) => token(seq('#', /.*/)),
  },
});
