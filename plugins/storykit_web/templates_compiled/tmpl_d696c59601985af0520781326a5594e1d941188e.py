from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'web/stories.html'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    parent_template = None
    l_0_page_count = resolve('page_count')
    l_0_page_number = resolve('page_number')
    l_0_card_item = l_0_page_title = missing
    pass
    parent_template = environment.get_template('web/base.html', 'web/stories.html')
    for name, parent_block in parent_template.blocks.items():
        context.blocks.setdefault(name, []).append(parent_block)
    included_template = environment.get_template('web/_card.html', 'web/stories.html').make_module(context.get_all(), True, {'card_item': l_0_card_item, 'page_title': l_0_page_title})
    l_0_card_item = getattr(included_template, 'card_item', missing)
    if l_0_card_item is missing:
        l_0_card_item = undefined(f"the template {included_template.__name__!r} (imported on line 3 in 'web/stories.html') does not export the requested name 'card_item'", name='card_item')
    context.vars['card_item'] = l_0_card_item
    context.exported_vars.discard('card_item')
    l_0_page_title = ('All stories' if ((undefined(name='page_count') if l_0_page_count is missing else l_0_page_count) == 1) else markup_join(('All stories, page ', (undefined(name='page_number') if l_0_page_number is missing else l_0_page_number), ' of ', (undefined(name='page_count') if l_0_page_count is missing else l_0_page_count), )))
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
    l_0_page_count = resolve('page_count')
    l_0_page_number = resolve('page_number')
    l_0_cards = resolve('cards')
    l_0_first = resolve('first')
    l_0_total = resolve('total')
    l_0_root = resolve('root')
    l_0_pages = resolve('pages')
    try:
        t_1 = environment.filters['length']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'length' found.")
    pass
    yield '<h1>All stories'
    if ((undefined(name='page_count') if l_0_page_count is missing else l_0_page_count) > 1):
        pass
        yield ' <span class="caption">page '
        yield escape((undefined(name='page_number') if l_0_page_number is missing else l_0_page_number))
        yield ' of '
        yield escape((undefined(name='page_count') if l_0_page_count is missing else l_0_page_count))
        yield '</span>'
    yield '</h1>\n'
    if (undefined(name='cards') if l_0_cards is missing else l_0_cards):
        pass
        yield '<p>Showing '
        yield escape((undefined(name='first') if l_0_first is missing else l_0_first))
        yield ' to '
        yield escape((((undefined(name='first') if l_0_first is missing else l_0_first) + t_1((undefined(name='cards') if l_0_cards is missing else l_0_cards))) - 1))
        yield ' of '
        yield escape((undefined(name='total') if l_0_total is missing else l_0_total))
        yield ' '
        yield escape(('story' if ((undefined(name='total') if l_0_total is missing else l_0_total) == 1) else 'stories'))
        yield ', newest first.</p>\n<ul class="card-list">\n'
        for l_1_card in (undefined(name='cards') if l_0_cards is missing else l_0_cards):
            l_1_card_once = resolve('card_once')
            l_1_card_item = resolve('card_item')
            _loop_vars = {}
            pass
            yield escape(environment.call(context, (undefined(name='card_once') if l_1_card_once is missing else l_1_card_once), (undefined(name='card_item') if l_1_card_item is missing else l_1_card_item), l_1_card, _loop_vars=_loop_vars))
        l_1_card = l_1_card_once = l_1_card_item = missing
        yield '</ul>\n'
    else:
        pass
        yield '<p>There are no stories here yet.</p>\n'
    if ((undefined(name='page_count') if l_0_page_count is missing else l_0_page_count) > 1):
        pass
        yield '<nav class="pagination" aria-label="Pages of stories">\n<ul class="pagination__list">\n'
        if ((undefined(name='page_number') if l_0_page_number is missing else l_0_page_number) > 1):
            pass
            yield '<li><a href="'
            yield escape((undefined(name='root') if l_0_root is missing else l_0_root))
            yield escape(environment.getitem((undefined(name='pages') if l_0_pages is missing else l_0_pages), ((undefined(name='page_number') if l_0_page_number is missing else l_0_page_number) - 2)))
            yield '" rel="prev">Previous page</a></li>'
        l_1_loop = missing
        for l_1_href, l_1_loop in LoopContext((undefined(name='pages') if l_0_pages is missing else l_0_pages), undefined):
            _loop_vars = {}
            pass
            yield '<li><a href="'
            yield escape((undefined(name='root') if l_0_root is missing else l_0_root))
            yield escape(l_1_href)
            yield '"'
            if (environment.getattr(l_1_loop, 'index') == (undefined(name='page_number') if l_0_page_number is missing else l_0_page_number)):
                pass
                yield ' aria-current="page"'
            yield '>Page '
            yield escape(environment.getattr(l_1_loop, 'index'))
            yield '</a></li>\n'
        l_1_loop = l_1_href = missing
        if ((undefined(name='page_number') if l_0_page_number is missing else l_0_page_number) < (undefined(name='page_count') if l_0_page_count is missing else l_0_page_count)):
            pass
            yield '<li><a href="'
            yield escape((undefined(name='root') if l_0_root is missing else l_0_root))
            yield escape(environment.getitem((undefined(name='pages') if l_0_pages is missing else l_0_pages), (undefined(name='page_number') if l_0_page_number is missing else l_0_page_number)))
            yield '" rel="next">Next page</a></li>'
        yield '</ul>\n</nav>\n'

blocks = {'content': block_content}
debug_info = '2=15&3=18&4=24&5=29&6=51&7=59&8=62&10=70&15=81&18=84&19=91&20=95&22=105'