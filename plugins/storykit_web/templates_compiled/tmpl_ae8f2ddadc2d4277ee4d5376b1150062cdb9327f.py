from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'web/home.html'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    parent_template = None
    l_0_card_item = missing
    pass
    parent_template = environment.get_template('web/base.html', 'web/home.html')
    for name, parent_block in parent_template.blocks.items():
        context.blocks.setdefault(name, []).append(parent_block)
    included_template = environment.get_template('web/_card.html', 'web/home.html').make_module(context.get_all(), True, {'card_item': l_0_card_item})
    l_0_card_item = getattr(included_template, 'card_item', missing)
    if l_0_card_item is missing:
        l_0_card_item = undefined(f"the template {included_template.__name__!r} (imported on line 3 in 'web/home.html') does not export the requested name 'card_item'", name='card_item')
    context.vars['card_item'] = l_0_card_item
    context.exported_vars.discard('card_item')
    yield from parent_template.root_render_func(context)

def block_content(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    l_0_site = resolve('site')
    l_0_cards = resolve('cards')
    l_0_root = resolve('root')
    l_0_total = resolve('total')
    l_0_services = resolve('services')
    l_0_tags = resolve('tags')
    l_0_extra_pages = resolve('extra_pages')
    try:
        t_1 = environment.filters['length']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'length' found.")
    pass
    yield '<h1>'
    yield escape(environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title'))
    yield '</h1>\n'
    if environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'description'):
        pass
        yield '<p class="lede">'
        yield escape(environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'description'))
        yield '</p>'
    yield '<h2>Newest stories</h2>\n'
    if (undefined(name='cards') if l_0_cards is missing else l_0_cards):
        pass
        yield '<ul class="card-list">\n'
        for l_1_card in (undefined(name='cards') if l_0_cards is missing else l_0_cards):
            l_1_card_once = resolve('card_once')
            l_1_card_item = resolve('card_item')
            _loop_vars = {}
            pass
            yield escape(environment.call(context, (undefined(name='card_once') if l_1_card_once is missing else l_1_card_once), (undefined(name='card_item') if l_1_card_item is missing else l_1_card_item), l_1_card, 3, _loop_vars=_loop_vars))
        l_1_card = l_1_card_once = l_1_card_item = missing
        yield '</ul>\n<p><a href="'
        yield escape((undefined(name='root') if l_0_root is missing else l_0_root))
        yield 'stories.html">See all '
        yield escape((undefined(name='total') if l_0_total is missing else l_0_total))
        yield ' '
        yield escape(('story' if ((undefined(name='total') if l_0_total is missing else l_0_total) == 1) else 'stories'))
        yield '</a></p>\n'
    else:
        pass
        yield '<p>There are no stories here yet. Please come back soon.</p>\n'
    if (undefined(name='services') if l_0_services is missing else l_0_services):
        pass
        yield '<h2>Stories by service</h2>\n<ul class="group-list">\n'
        for l_1_group in (undefined(name='services') if l_0_services is missing else l_0_services):
            _loop_vars = {}
            pass
            yield '<li><a href="'
            yield escape((undefined(name='root') if l_0_root is missing else l_0_root))
            yield escape(environment.getattr(l_1_group, 'page'))
            yield '">'
            yield escape(environment.getattr(l_1_group, 'name'))
            yield '</a> ('
            yield escape(environment.getattr(l_1_group, 'count'))
            yield ')</li>\n'
        l_1_group = missing
        yield '</ul>\n'
    if (undefined(name='tags') if l_0_tags is missing else l_0_tags):
        pass
        yield '<h2>Stories by topic</h2>\n<p><a href="'
        yield escape((undefined(name='root') if l_0_root is missing else l_0_root))
        yield 'tags.html">See all '
        yield escape(t_1((undefined(name='tags') if l_0_tags is missing else l_0_tags)))
        yield ' topics</a></p>\n'
    if (undefined(name='extra_pages') if l_0_extra_pages is missing else l_0_extra_pages):
        pass
        yield '<h2>More from us</h2>\n<ul class="group-list">\n'
        for l_1_page in (undefined(name='extra_pages') if l_0_extra_pages is missing else l_0_extra_pages):
            _loop_vars = {}
            pass
            yield '<li><a href="'
            yield escape((undefined(name='root') if l_0_root is missing else l_0_root))
            yield escape(environment.getattr(l_1_page, 'path'))
            yield '">'
            yield escape(environment.getattr(l_1_page, 'title'))
            yield '</a></li>\n'
        l_1_page = missing
        yield '</ul>\n'
    yield '<h2>Search the stories</h2>\n<p><a href="'
    yield escape((undefined(name='root') if l_0_root is missing else l_0_root))
    yield 'search.html">Search for a word or phrase</a></p>\n'

blocks = {'content': block_content}
debug_info = '2=13&3=16&4=24&5=46&6=48&8=54&10=57&12=65&16=74&19=77&20=81&24=90&26=93&28=97&31=100&32=104&37=112'