from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'web/groups.html'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    parent_template = None
    l_0_kind = resolve('kind')
    l_0_page_title = missing
    pass
    parent_template = environment.get_template('web/base.html', 'web/groups.html')
    for name, parent_block in parent_template.blocks.items():
        context.blocks.setdefault(name, []).append(parent_block)
    l_0_page_title = ('Stories by service' if ((undefined(name='kind') if l_0_kind is missing else l_0_kind) == 'services') else 'Stories by topic')
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
    l_0_page_title = resolve('page_title')
    l_0_groups = resolve('groups')
    pass
    yield '<h1>'
    yield escape((undefined(name='page_title') if l_0_page_title is missing else l_0_page_title))
    yield '</h1>\n'
    if (undefined(name='groups') if l_0_groups is missing else l_0_groups):
        pass
        yield '<ul class="group-list">\n'
        for l_1_group in (undefined(name='groups') if l_0_groups is missing else l_0_groups):
            l_1_root = resolve('root')
            _loop_vars = {}
            pass
            yield '<li><a href="'
            yield escape((undefined(name='root') if l_1_root is missing else l_1_root))
            yield escape(environment.getattr(l_1_group, 'page'))
            yield '">'
            yield escape(environment.getattr(l_1_group, 'name'))
            yield '</a> ('
            yield escape(environment.getattr(l_1_group, 'count'))
            yield ' '
            yield escape(('story' if (environment.getattr(l_1_group, 'count') == 1) else 'stories'))
            yield ')</li>\n'
        l_1_group = l_1_root = missing
        yield '</ul>\n'
    else:
        pass
        yield '<p>There are no stories here yet.</p>\n'

blocks = {'content': block_content}
debug_info = '2=14&3=17&4=22&5=33&6=35&8=38&9=43'