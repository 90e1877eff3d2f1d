from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'web/_card.html'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_card_item = missing
    pass
    def macro(l_1_card, l_1_level):
        t_1 = []
        l_1_root = resolve('root')
        if l_1_card is missing:
            l_1_card = undefined("parameter 'card' was not provided", name='card')
        if l_1_level is missing:
            l_1_level = 2
        pass
        t_1.extend((
            '<li class="card">\n<h',
            escape(l_1_level),
            ' class="card__heading"><a class="card__link" href="',
            escape((undefined(name='root') if l_1_root is missing else l_1_root)),
            escape(environment.getattr(l_1_card, 'page')),
            '">',
            escape(environment.getattr(l_1_card, 'title')),
            '</a></h',
            escape(l_1_level),
            '>\n',
        ))
        if environment.getattr(l_1_card, 'summary'):
            pass
            t_1.extend((
                '<p class="card__summary">',
                escape(environment.getattr(l_1_card, 'summary')),
                '</p>\n',
            ))
        t_1.append(
            '<p class="card__meta">\n',
        )
        if environment.getattr(l_1_card, 'service'):
            pass
            t_1.extend((
                '<span class="card__service">',
                escape(environment.getattr(l_1_card, 'service')),
                '</span>\n',
            ))
        if environment.getattr(l_1_card, 'updated'):
            pass
            t_1.extend((
                '<span class="card__date">Updated <time datetime="',
                escape(environment.getattr(l_1_card, 'updated')),
                '">',
                escape(environment.getattr(l_1_card, 'updated_text')),
                '</time></span>\n',
            ))
        if environment.getattr(l_1_card, 'content_warning'):
            pass
            t_1.append(
                '<span class="card__warning">Has a content warning</span>\n',
            )
        t_1.append(
            '</p>\n</li>\n',
        )
        return concat(t_1)
    context.exported_vars.add('card_item')
    context.vars['card_item'] = l_0_card_item = Macro(environment, macro, 'card_item', ('card', 'level'), False, False, False, context.eval_ctx.autoescape)

blocks = {}
debug_info = '2=12&4=22&5=32&8=42&10=49&12=58'