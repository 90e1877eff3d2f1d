from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'web/group.html'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    parent_template = None
    l_0_kind = resolve('kind')
    l_0_name = resolve('name')
    l_0_card_item = l_0_page_title = missing
    pass
    parent_template = environment.get_template('web/base.html', 'web/group.html')
    for name, parent_block in parent_template.blocks.items():
        context.blocks.setdefault(name, []).append(parent_block)
    included_template = environment.get_template('web/_card.html', 'web/group.html').make_module(context.get_all(), True, {'card_item': l_0_card_item, 'page_title': l_0_page_title})
    l_0_card_item = getattr(included_template, 'card_item', missing)
    if l_0_card_item is missing:
        l_0_card_item = undefined(f"the template {included_template.__name__!r} (imported on line 3 in 'web/group.html') does not export the requested name 'card_item'", name='card_item')
    context.vars['card_item'] = l_0_card_item
    context.exported_vars.discard('card_item')
    l_0_page_title = markup_join((('Stories from ' if ((undefined(name='kind') if l_0_kind is missing else l_0_kind) == 'services') else 'Stories about '), (undefined(name='name') if l_0_name is missing else l_0_name), ))
    context.vars['page_title'] = l_0_page_title
    context.exported_vars.add('page_title')
    yield from parent_template.root_render_func(context)

def block_content(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    l_0_root = resolve('root')
    l_0_kind = resolve('kind')
    l_0_page_title = resolve('page_title')
    l_0_cards = resolve('cards')
    try:
        t_1 = environment.filters['length']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'length' found.")
    pass
    yield '<nav class="back-link" aria-label="Back"><a href="'
    yield escape((undefined(name='root') if l_0_root is missing else l_0_root))
    yield escape((undefined(name='kind') if l_0_kind is missing else l_0_kind))
    yield '.html">'
    yield escape(('All services' if ((undefined(name='kind') if l_0_kind is missing else l_0_kind) == 'services') else 'All topics'))
    yield '</a></nav>\n<h1>'
    yield escape((undefined(name='page_title') if l_0_page_title is missing else l_0_page_title))
    yield '</h1>\n<p>'
    yield escape(t_1((undefined(name='cards') if l_0_cards is missing else l_0_cards)))
    yield ' '
    yield escape(('story' if (t_1((undefined(name='cards') if l_0_cards is missing else l_0_cards)) == 1) else 'stories'))
    yield ', newest first.</p>\n<ul class="card-list">\n'
    for l_1_card in (undefined(name='cards') if l_0_cards is missing else l_0_cards):
        l_1_card_once = resolve('card_once')
        l_1_card_item = resolve('card_item')
        _loop_vars = {}
        pass
        yield escape(environment.call(context, (undefined(name='card_once') if l_1_card_once is missing else l_1_card_once), (undefined(name='card_item') if l_1_card_item is missing else l_1_card_item), l_1_card, _loop_vars=_loop_vars))
    l_1_card = l_1_card_once = l_1_card_item = missing
    yield '</ul>\n'

blocks = {'content': block_content}
debug_info = '2=15&3=18&4=24&5=29&6=48&7=53&8=55&10=59'